import { Agent as HttpAgent, IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ApiReply, ApiRequest, Transport } from '../contract/api-client';
import { describeConnectionFailure } from './service-address';

export interface NodeTransportOptions {
  /** The service's base address, as serviceUrl reads it (ends with `/`). */
  base: URL;
  token: string;
  /** PEM of a CA to trust for HTTPS (SECRETS_CA_FILE). */
  ca?: string | Buffer;
  /** The longest silence before an answer, unless a request says otherwise; 0: none. */
  timeoutMs: number;
  /** The error for "no answer at all", in the caller's words; `reason` names the cause and what to change. */
  unreachable: (reason: string) => Error;
}

const MAX_REPLY_BYTES = 32 * 1024 * 1024;

/**
 * The API over Node's own http/https, for the SDK and the CLI: one kept-alive agent, so a refresh
 * after a notification costs one round trip, not a TCP (and TLS) handshake as well. Not `fetch`:
 * the global fetch takes no CA and no agent of its own, and gives up on an answer that has not
 * started within 300 s (a verify of a long log is silent longer).
 */
export class NodeTransport implements Transport {
  readonly #token: string;
  private readonly agent: HttpAgent | HttpsAgent;

  constructor(private readonly options: NodeTransportOptions) {
    this.#token = options.token;
    // Free sockets are unref'd by the agent: a kept-alive connection never holds a process open.
    this.agent =
      options.base.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, maxSockets: 4, ...(options.ca ? { ca: options.ca } : {}) })
        : new HttpAgent({ keepAlive: true, maxSockets: 4 });
  }

  async send(request: ApiRequest): Promise<ApiReply> {
    return readReply(await this.open(request));
  }

  /** The response as soon as its head arrives, its body unread (an export streams through). */
  open({ method, path, json, headers = {}, timeoutMs = this.options.timeoutMs }: ApiRequest): Promise<IncomingMessage> {
    const url = new URL(path, this.options.base);
    const payload = json === undefined ? undefined : Buffer.from(JSON.stringify(json), 'utf8');
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        {
          method,
          agent: this.agent,
          ...(timeoutMs > 0 ? { timeout: timeoutMs } : {}),
          headers: {
            authorization: `Bearer ${this.#token}`,
            accept: 'application/json',
            ...(payload ? { 'content-length': String(payload.length) } : {}),
            ...headers,
          },
        },
        resolve,
      );
      req.once('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
      req.once('error', (error) => void describeConnectionFailure(error, url).then((reason) => reject(this.options.unreachable(reason))));
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A response read whole: JSON when it parses, undefined otherwise (a proxy's error page). */
export function readReply(res: IncomingMessage): Promise<ApiReply> {
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
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = undefined;
      }
      const headers = Object.fromEntries(Object.entries(res.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value]));
      resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers, body });
    });
  });
}
