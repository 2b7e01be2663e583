import { Agent as HttpAgent, IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { redactUrl } from '../nats/nats-options';
import { SecretsServiceError, SecretsServiceUnreachableError } from './errors';
import { describeConnectionFailure, serviceToken, serviceUrl } from './service-address';

/** The body of `POST /api/v1/resolve` (SPEC §3): the only place an executor gets values from. */
export interface ResolveReply {
  secrets: Record<string, string>;
  missing: string[];
  /** Keys whose stored value failed its integrity check: never returned, never guessed. */
  unreadable?: string[];
  /**
   * With SECRETS_REFUSE_EXPIRED=true on the service, keys whose expiry has passed: not returned,
   * so the client treats them as it treats missing ones.
   */
  expired?: string[];
  /** The store-wide revision this answer reflects: the only revision a client trusts. */
  revision: number;
}

const MAX_REPLY_BYTES = 32 * 1024 * 1024;

/**
 * The SDK's HTTP(S) connection to the service: one kept-alive agent, so a refresh after a
 * notification costs one round trip, not a TCP (and TLS) handshake as well. Node's own
 * `http`/`https` rather than `fetch`: the global fetch takes no CA and no agent of its own.
 */
export class ServiceHttp {
  readonly #token: string;
  private readonly base: URL;
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly timeoutMs: number;

  constructor(url: string, token: string, options: { ca?: string | Buffer; timeoutMs: number }) {
    this.base = serviceUrl(url, 'the secrets service URL');
    this.#token = serviceToken(token, 'the token');
    this.timeoutMs = options.timeoutMs;
    this.agent =
      this.base.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, maxSockets: 4, ...(options.ca ? { ca: options.ca } : {}) })
        : new HttpAgent({ keepAlive: true, maxSockets: 4 });
  }

  get url(): string {
    return redactUrl(this.base.origin);
  }

  resolve(plugin: string, keys: string[]): Promise<ResolveReply> {
    return this.postJson<ResolveReply>('api/v1/resolve', { plugin, keys });
  }

  close(): void {
    this.agent.destroy();
  }

  private postJson<T>(path: string, body: unknown): Promise<T> {
    const payload = Buffer.from(JSON.stringify(body), 'utf8');
    const send = this.base.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<T>((resolve, reject) => {
      const req = send(
        new URL(path, this.base),
        {
          method: 'POST',
          agent: this.agent,
          timeout: this.timeoutMs,
          headers: { authorization: `Bearer ${this.#token}`, 'content-type': 'application/json', 'content-length': payload.length },
        },
        (res) => void readJson(res).then((parsed) => settle(res, parsed), reject),
      );
      const settle = (res: IncomingMessage, parsed: unknown) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve(parsed as T);
        const detail = (parsed as { detail?: unknown } | undefined)?.detail;
        reject(new SecretsServiceError(status, typeof detail === 'string' ? detail : (res.statusMessage ?? 'error')));
      };
      req.once('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.once('error', (error) => void describeConnectionFailure(error, this.base).then((reason) => reject(new SecretsServiceUnreachableError(this.url, reason))));
      req.end(payload);
    });
  }
}

function readJson(res: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REPLY_BYTES) res.destroy(new Error('reply too large'));
      else chunks.push(chunk);
    });
    res.once('error', reject);
    res.once('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text === '' ? undefined : JSON.parse(text));
      } catch {
        // Not JSON (a proxy's error page): the status still says what happened.
        resolve(undefined);
      }
    });
  });
}
