import { readFileSync } from 'node:fs';
import { IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ServiceSettingError, describeConnectionFailure, serviceToken, serviceUrl } from '../../client/service-address';
import { CommandFailure, EXIT, exitCodeForStatus } from './exit-codes';

export interface AdminApiOptions {
  /** The service's base address, as serviceUrl reads it (ends with `/`). */
  url: URL;
  token: string;
  /** PEM text of a CA to trust for HTTPS (SECRETS_CA_FILE). */
  ca?: string;
}

export interface ApiReply<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

interface Problem {
  title?: string;
  detail?: string;
  errors?: Array<{ field: string; message: string }>;
}

const REQUEST_TIMEOUT_MS = 15_000;

export const DEFAULT_SERVICE_URL = 'http://127.0.0.1:3000';

/**
 * The CLI's view of the service in the environment (SPEC §6): SECRETS_URL, SECRETS_TOKEN,
 * SECRETS_CA_FILE, each read by the clients' shared rules. `role` only words the message when
 * the token is missing (the audit commands take an auditor's).
 */
export function adminApiFromEnvironment(env: NodeJS.ProcessEnv = process.env, role = 'an admin token'): AdminApi {
  let token: string;
  let url: URL;
  try {
    token = serviceToken(env.SECRETS_TOKEN);
    url = serviceUrl(env.SECRETS_URL || DEFAULT_SERVICE_URL);
  } catch (error) {
    if (error instanceof ServiceSettingError) throw new CommandFailure(error.message, EXIT.usage);
    throw error;
  }
  if (!token) throw new CommandFailure(`set SECRETS_TOKEN to ${role} (it is never taken from a flag: flags show in ps)`, EXIT.usage);
  let ca: string | undefined;
  if (env.SECRETS_CA_FILE) {
    try {
      ca = readFileSync(env.SECRETS_CA_FILE, 'utf8');
    } catch (error) {
      throw new CommandFailure(`SECRETS_CA_FILE: cannot read ${env.SECRETS_CA_FILE} (${(error as NodeJS.ErrnoException).code})`, EXIT.usage);
    }
  }
  return new AdminApi({ url, token, ca });
}

/**
 * The HTTP API (SPEC §3) as the admin commands use it: JSON in, JSON out, and every refusal
 * turned into a CommandFailure carrying the service's problem detail and the exit code for
 * its status. Uses node:http(s) rather than fetch so that a CA file needs no extra dependency.
 */
export class AdminApi {
  readonly #token: string;

  constructor(private readonly options: AdminApiOptions) {
    this.#token = options.token;
  }

  /** The service's address, for messages: no credentials a URL might carry, no trailing slash. */
  get url(): string {
    return `${this.options.url.origin}${this.options.url.pathname.replace(/\/$/, '')}`;
  }

  /**
   * The request's answer when it is 2xx; a CommandFailure naming the problem otherwise.
   * `timeoutMs` bounds the silence before the answer (a verify of a long log is silent while
   * the service works).
   */
  async call<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, timeoutMs = REQUEST_TIMEOUT_MS): Promise<ApiReply<T>> {
    const reply = await this.send(method, path, body, headers, timeoutMs);
    if (reply.status >= 200 && reply.status < 300) return reply as ApiReply<T>;
    throw new CommandFailure(describeProblem(reply.status, reply.body as Problem), exitCodeForStatus(reply.status));
  }

  /**
   * A GET whose 2xx body is consumed as it arrives (an export: memory stays flat however long
   * it is); a refusal is read whole and becomes a CommandFailure, as for `call`.
   */
  async stream(path: string): Promise<IncomingMessage> {
    const res = await this.open('GET', path, undefined, {}, REQUEST_TIMEOUT_MS);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    const reply = await readReply(res);
    throw new CommandFailure(describeProblem(status, reply.body as Problem), exitCodeForStatus(status));
  }

  /** Every page of a paged list (`{items, next}`; a reply without `next` is the only page). */
  async all<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let after: string | null | undefined;
    do {
      const page = await this.call<{ items: T[]; next?: string | null }>('GET', after ? `${path}?after=${encodeURIComponent(after)}` : path);
      items.push(...page.body.items);
      after = page.body.next;
    } while (after);
    return items;
  }

  private async send(method: string, path: string, body: unknown, headers: Record<string, string>, timeoutMs: number): Promise<ApiReply> {
    return readReply(await this.open(method, path, body, headers, timeoutMs));
  }

  /** The response as soon as its head arrives; `timeoutMs` is the longest silence allowed, then or later. */
  private open(method: string, path: string, body: unknown, headers: Record<string, string>, timeoutMs: number): Promise<IncomingMessage> {
    const url = new URL(path, this.options.url);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          ca: this.options.ca,
          timeout: timeoutMs,
          headers: {
            authorization: `Bearer ${this.#token}`,
            accept: 'application/json',
            ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
            ...headers,
          },
        },
        resolve,
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
      req.on('error', (error) => {
        void describeConnectionFailure(error, url).then((reason) => reject(new CommandFailure(`cannot reach the service at ${this.url}: ${reason}`, EXIT.unavailable)));
      });
      req.end(payload);
    });
  }
}

/** A response read whole: JSON when it parses, `undefined` otherwise. */
function readReply(res: IncomingMessage): Promise<ApiReply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let parsed: unknown = undefined;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
    });
    res.on('error', reject);
  });
}

function describeProblem(status: number, problem: Problem | undefined): string {
  const head = `${status} ${problem?.title ?? 'error'}${problem?.detail ? `: ${problem.detail}` : ''}`;
  const fields = (problem?.errors ?? []).map((error) => `\n  ${error.field}: ${error.message}`);
  return head + fields.join('');
}
