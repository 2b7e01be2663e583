import { EventStreamParser, type ServerSentEvent } from '../../client/server-sent-events';
import { CHANGE_EVENT, type ChangeNotification, REVOKED_EVENT, isChangeNotification } from '../../contract/change-notification';
import { ApiError } from './api';

export interface ChangeStreamOptions {
  /**
   * Opens the change stream, resuming after `lastEventId` (sent as `Last-Event-ID`) when there is
   * one, and resolves once a 2xx answer's head is in, with its body's text as it arrives. A
   * refusal is an ApiError; anything else means the service could not be reached.
   */
  open(lastEventId: string | undefined, signal: AbortSignal): Promise<AsyncIterable<string>>;
  onChange(change: ChangeNotification): void;
  /** The stream's token was revoked: following has ended. */
  onRevoked(detail: string): void;
  /** The stream is open (true), or was lost (false) and will be reopened. */
  onLive?(live: boolean): void;
  /** Silence after which an open stream is taken for dead and reopened (the service talks every 15 s). */
  silenceMs?: number;
}

export interface ChangeStream {
  /** The revision of the last change received; undefined before the first. */
  readonly lastEventId: string | undefined;
  close(): void;
}

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;
const DEFAULT_SILENCE_MS = 45_000;

/**
 * Follows the change stream until closed: each `change` is handed over in order, and a stream
 * that ends, fails or falls silent is reopened after the server's `retry:` delay (longer,
 * jittered, while it keeps failing) with the last id received, so the service sends whatever
 * was missed meanwhile. A revocation ends it; so does a 401 or 403, which the Api has already
 * turned into the end of the session.
 */
export function followChanges(options: ChangeStreamOptions): ChangeStream {
  let lastEventId: string | undefined;
  let retryMs: number | undefined;
  let closed = false;
  let current: AbortController | undefined;
  let wake: (() => void) | undefined;

  /** Handles one event; false when it ends following. */
  const handle = (event: ServerSentEvent): boolean => {
    if (event.event === REVOKED_EVENT) {
      closed = true;
      options.onRevoked(parsed<{ detail?: unknown }>(event.data)?.detail?.toString() ?? 'The token was revoked.');
      return false;
    }
    const change = parsed<unknown>(event.data);
    if (event.event === CHANGE_EVENT && isChangeNotification(change)) options.onChange(change);
    lastEventId = event.id ?? lastEventId;
    return true;
  };

  /** One connection, read to its end; true when it opened. */
  const readOnce = async (): Promise<boolean> => {
    const controller = (current = new AbortController());
    let silence: ReturnType<typeof setTimeout> | undefined;
    const heard = () => {
      clearTimeout(silence);
      silence = setTimeout(() => controller.abort(), options.silenceMs ?? DEFAULT_SILENCE_MS);
    };
    const events: ServerSentEvent[] = [];
    const parser = new EventStreamParser((event) => events.push(event));
    parser.lastEventId = lastEventId;
    let opened = false;
    try {
      heard();
      const body = await options.open(lastEventId, controller.signal);
      opened = true;
      options.onLive?.(true);
      for await (const chunk of body) {
        heard();
        parser.push(chunk);
        retryMs = parser.retryMs ?? retryMs;
        for (const event of events.splice(0)) if (!handle(event)) return opened;
      }
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) closed = true;
    } finally {
      clearTimeout(silence);
      controller.abort();
    }
    if (!closed) options.onLive?.(false);
    return opened;
  };

  void (async () => {
    let failures = 0;
    while (!closed) {
      failures = (await readOnce()) ? 0 : failures + 1;
      if (closed) break;
      const wait = failures === 0 ? (retryMs ?? FIRST_RETRY_MS) : Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (failures - 1));
      // Jittered, so the consoles of an instance that stopped do not all come back at once.
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, wait * (0.8 + 0.4 * Math.random()));
      });
    }
  })();

  return {
    get lastEventId() {
      return lastEventId;
    },
    close() {
      closed = true;
      current?.abort();
      wake?.();
    },
  };
}

/** Data that does not parse is skipped: reconnecting would only send it again. */
function parsed<T>(data: string): T | undefined {
  try {
    return JSON.parse(data) as T;
  } catch {
    return undefined;
  }
}
