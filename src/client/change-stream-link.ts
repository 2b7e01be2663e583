import { ClientRequest, IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { CHANGES_PATH, CHANGE_EVENT, ChangeNotification, REVOKED_EVENT, isChangeNotification } from '../contract/change-notification';
import { retryDelay } from '../nats/retry-delay';
import { EventStreamParser } from './server-sent-events';
import { describeConnectionFailure } from './service-address';

export type StreamStatus = { live: true } | { live: false; problem: string };

export interface ChangeStreamOptions {
  /** The service's base URL, already checked (`serviceUrl`). */
  base: URL;
  token: string;
  /** PEM of a CA to trust for an https:// base, as the resolve path trusts it. */
  ca?: string | Buffer;
  /** A stream silent for this long is taken for dead and reopened (the service sends a comment at least every 15 s). */
  idleTimeoutMs?: number;
  onChange(change: ChangeNotification): void;
  onStatus(status: StreamStatus): void;
}

const DEFAULT_IDLE_TIMEOUT_MS = 45_000;

/**
 * The SDK's follower of `GET /api/v1/changes` (SPEC §3): one long request over Node's own
 * http/https (the CA option applies as it does to resolve), reopened after any end with the
 * last id it read in `Last-Event-ID`, so the service sends what was missed meanwhile. Waits
 * between attempts grow as NATS's do (250 ms to 5 s, jittered), or follow `Retry-After`.
 * Reports `live` once the service has answered 200, and why not otherwise.
 */
export class ChangeStreamLink {
  readonly #token: string;
  private request: ClientRequest | undefined;
  private lastEventId: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private downSince: number | undefined;
  private closed = false;

  constructor(private readonly options: ChangeStreamOptions) {
    this.#token = options.token;
  }

  start(): void {
    this.open();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.idleTimer);
    this.request?.destroy();
  }

  private open(): void {
    if (this.closed) return;
    const { base, ca } = this.options;
    const https = base.protocol === 'https:';
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}`, accept: 'text/event-stream' };
    if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId;
    const url = new URL(CHANGES_PATH, base);
    const req = (https ? httpsRequest : httpRequest)(url, { headers, agent: false, ...(https && ca ? { ca } : {}) }, (res) => this.answered(res));
    this.request = req;
    req.once('error', (error) => void describeConnectionFailure(error, base).then((reason) => this.lost(reason)));
    req.end();
  }

  private answered(res: IncomingMessage): void {
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      res.resume();
      const retryAfter = Number(res.headers['retry-after']);
      const why =
        status === 401 ? 'the service refused the token (401: unknown or revoked)' : status === 403 ? 'the token may not follow changes (403)' : status === 429 ? 'the service holds as many change streams as it allows (429)' : `the change stream answered ${status}`;
      return this.lost(why, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined);
    }
    this.downSince = undefined;
    this.options.onStatus({ live: true });
    const decoder = new StringDecoder('utf8');
    let revoked: string | undefined;
    const parser = new EventStreamParser((event) => {
      if (event.event === REVOKED_EVENT) revoked = 'the token was revoked';
      if (event.event !== CHANGE_EVENT) return;
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      if (isChangeNotification(data)) this.options.onChange(data);
    });
    this.watchIdle(res);
    res.on('data', (chunk: Buffer) => {
      this.watchIdle(res);
      parser.push(decoder.write(chunk));
      this.lastEventId = parser.lastEventId ?? this.lastEventId;
    });
    res.once('error', () => undefined);
    res.once('close', () => this.lost(revoked ?? 'the change stream ended'));
  }

  private watchIdle(res: IncomingMessage): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => res.destroy(), this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    this.idleTimer.unref();
  }

  private lost(problem: string, waitMs?: number): void {
    clearTimeout(this.idleTimer);
    if (this.closed || this.retryTimer) return;
    this.request = undefined;
    this.downSince ??= Date.now();
    this.options.onStatus({ live: false, problem });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.open();
    }, waitMs ?? retryDelay(Date.now() - this.downSince));
    this.retryTimer.unref();
  }
}
