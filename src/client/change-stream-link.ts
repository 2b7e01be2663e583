import { ClientRequest, IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { CHANGES_PATH, CHANGE_EVENT, KEYS_PARAM, PLUGIN_PARAM, PushedChange, REVOKED_EVENT, VALUES_PARAM, isChangeNotification } from '../contract/change-notification';
import { retryDelay } from '../common/retry-delay';
import { EventStreamParser } from './server-sent-events';
import { describeConnectionFailure } from './service-address';

export type StreamStatus = { live: true } | { live: false; problem: string };

/** What a values-mode stream carries values of (SPEC §3): one plugin's keys. */
export interface ValuesScope {
  plugin: string;
  keys: readonly string[];
}

export interface ChangeStreamOptions {
  /** The service's base URL, already checked (`serviceUrl`). */
  base: URL;
  token: string;
  /** PEM of a CA to trust for an https:// base, as the resolve path trusts it. */
  ca?: string | Buffer;
  /** A stream silent for this long is taken for dead and reopened (the service sends a comment at least every 15 s). */
  idleTimeoutMs?: number;
  /** `scope`: the values-mode scope of the stream that carried it; undefined for a value-free stream. */
  onChange(change: PushedChange, scope: ValuesScope | undefined): void;
  onStatus(status: StreamStatus): void;
}

const DEFAULT_IDLE_TIMEOUT_MS = 45_000;
const REFUSED_TOKEN_RETRY_MS = 60_000;

/**
 * The SDK's follower of `GET /api/v1/changes` (SPEC §3): one long request over Node's own
 * http/https (the CA option applies as it does to resolve), reopened after any end with the
 * last id it read in `Last-Event-ID`, so the service sends what was missed meanwhile. Waits
 * between attempts grow as NATS's do (250 ms to 5 s, jittered), or follow `Retry-After`; a
 * refused token is tried again once a minute, and a revoked stream (`event: revoked`) not at all.
 * Reports `live` once the service has answered 200, and why not otherwise. Value-free until
 * given a values scope (`follow`): then it asks for that plugin's keys' values, and a new scope
 * reopens it at once from its last id.
 */
export class ChangeStreamLink {
  readonly #token: string;
  private request: ClientRequest | undefined;
  private lastEventId: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private downSince: number | undefined;
  private closed = false;
  private scope: ValuesScope | undefined;
  /** Waiting for the service's answer to the request `follow` opened. */
  private answerWaiters: (() => void)[] = [];

  constructor(private readonly options: ChangeStreamOptions) {
    this.#token = options.token;
  }

  start(): void {
    this.open();
  }

  /**
   * Follows in values mode for `scope` (undefined: value-free); reopens the stream now if it
   * changed. Resolves once the service has answered the reopened stream (or at once).
   */
  follow(scope: ValuesScope | undefined): Promise<void> {
    if (sameScope(scope, this.scope)) return Promise.resolve();
    this.scope = scope;
    if (!this.request || this.closed) return Promise.resolve();
    // The old request's end is not a loss: the new one resumes from the same last id.
    const old = this.request;
    this.request = undefined;
    clearTimeout(this.idleTimer);
    old.destroy();
    const answered = new Promise<void>((resolve) => this.answerWaiters.push(resolve));
    this.open();
    return answered;
  }

  close(): void {
    this.closed = true;
    this.answerWaiters.splice(0).forEach((resolve) => resolve());
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
    const scope = this.scope;
    if (scope) {
      url.searchParams.set(VALUES_PARAM, 'true');
      url.searchParams.set(PLUGIN_PARAM, scope.plugin);
      url.searchParams.set(KEYS_PARAM, scope.keys.join(','));
    }
    const req = (https ? httpsRequest : httpRequest)(url, { headers, agent: false, ...(https && ca ? { ca } : {}) }, (res) => this.answered(res, req, scope));
    this.request = req;
    req.once('error', (error) => req === this.request && void describeConnectionFailure(error, base).then((reason) => this.lost(reason)));
    req.end();
  }

  private answered(res: IncomingMessage, req: ClientRequest, scope: ValuesScope | undefined): void {
    // A request replaced by a new scope: whatever it answers is the new one's to say.
    if (req !== this.request) return void res.resume();
    this.answerWaiters.splice(0).forEach((resolve) => resolve());
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      res.resume();
      // A refused token stays refused until someone acts, and each attempt is a failed
      // authentication in the audit trail, counted against this address's share: seldom.
      if (status === 401) return this.lost('the service refused the token (401: unknown or revoked)', REFUSED_TOKEN_RETRY_MS);
      const retryAfter = Number(res.headers['retry-after']);
      const why =
        status === 403 ? 'the token may not follow changes (403)' : status === 429 ? 'the service holds as many change streams as it allows (429)' : `the change stream answered ${status}`;
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
      if (isChangeNotification(data)) this.options.onChange(data as PushedChange, scope);
    });
    this.watchIdle(res);
    res.on('data', (chunk: Buffer) => {
      if (req !== this.request) return;
      this.watchIdle(res);
      parser.push(decoder.write(chunk));
      this.lastEventId = parser.lastEventId ?? this.lastEventId;
    });
    res.once('error', () => undefined);
    res.once('close', () => {
      if (req !== this.request) return;
      // Revocation is for good: nothing to reopen.
      if (revoked) return this.stop(revoked);
      this.lost('the change stream ended');
    });
  }

  private watchIdle(res: IncomingMessage): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => res.destroy(), this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    this.idleTimer.unref();
  }

  private stop(problem: string): void {
    this.close();
    this.options.onStatus({ live: false, problem });
  }

  private lost(problem: string, waitMs?: number): void {
    this.answerWaiters.splice(0).forEach((resolve) => resolve());
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

function sameScope(a: ValuesScope | undefined, b: ValuesScope | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.plugin === b.plugin && a.keys.join(',') === b.keys.join(','));
}
