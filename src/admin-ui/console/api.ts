/** The console's only way to the service: `/api/v1` with the session's bearer token, over `fetch`. */
import { type ApiReply, type ApiRequest, ApiClient, ApiError, type Transport } from '../../contract/api-client';
import { API, pathOf } from '../../contract/api-routes';
import type { Whoami } from '../../contract/api-types';

// The API's own shapes, shared with the service, the SDK and the CLI (types only: erased from the bundle).
export type {
  Actor,
  AuditEntry,
  AuditHead,
  IssuedToken,
  Page,
  Role,
  SecretHistoryEntry as HistoryEntry,
  SecretConsumer,
  SecretMeta,
  TokenInfo,
  Whoami,
} from '../../contract/api-types';
import type { VerifyResult as ChainVerifyResult, CheckpointReport } from '../../contract/api-types';
/** `GET /audit/verify`, or `POST` with checkpoints (then `checkpoints` says what they showed). */
export type VerifyResult = ChainVerifyResult & { checkpoints?: CheckpointReport };
export type { FieldProblem, Problem } from '../../contract/problem';
export { API, ApiError };

interface CallOptions {
  json?: unknown;
  /** The version the caller last saw: sent as `If-Match`, so a stale change is refused (412). */
  ifMatch?: number;
}

const API_PREFIX = '/api/v1';
const NETWORK_ERROR = { status: 0, title: 'Network error', detail: 'The service did not answer. Check your connection and try again.' };

/** The browser's side of the API client: `fetch` from the page's own origin, never cached. */
class FetchTransport implements Transport {
  readonly #token: string;

  constructor(token: string) {
    this.#token = token;
  }

  async send(request: ApiRequest): Promise<ApiReply> {
    return readReply(await this.fetch(request));
  }

  /** The response as it arrives, its body unread (a download, a stream). */
  async fetch({ method, path, json, headers = {} }: ApiRequest, signal?: AbortSignal): Promise<Response> {
    try {
      return await fetch(`/${path}`, {
        method,
        headers: { authorization: `Bearer ${this.#token}`, ...headers },
        body: json === undefined ? undefined : JSON.stringify(json),
        cache: 'no-store',
        signal,
      });
    } catch {
      throw new ApiError(NETWORK_ERROR);
    }
  }
}

export class Api {
  private readonly transport: FetchTransport;
  private readonly client: ApiClient;

  /** `onUnauthenticated`: the token stopped working (revoked): the session must end. */
  constructor(token: string, onUnauthenticated: () => void = () => undefined) {
    this.transport = new FetchTransport(token);
    this.client = new ApiClient(this.transport, (error) => error.status === 401 && onUnauthenticated());
  }

  /** `path` under /api/v1, e.g. `/secrets`; the answer's body (undefined for 204). */
  async call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    return (await this.client.request<T>(method, apiPath(path), options)).body;
  }

  /** A download's bytes, fetched with the token in the header: a link could carry it only in its URL. */
  async blob(path: string): Promise<Blob> {
    const response = await this.transport.fetch({ method: 'GET', path: apiPath(path) });
    if (response.ok) return response.blob();
    // A refusal is read as any answer is: the same ApiError, and a 401 ends the session.
    throw this.client.refusal(await readReply(response));
  }

  /**
   * The change stream's text as it arrives (`GET /api/v1/changes`), resuming after `lastEventId`:
   * a `fetch` with the token in its header, which `EventSource` cannot send.
   */
  async changes(lastEventId: string | undefined, signal: AbortSignal): Promise<AsyncIterable<string>> {
    const headers: Record<string, string> = { accept: 'text/event-stream', ...(lastEventId !== undefined ? { 'last-event-id': lastEventId } : {}) };
    const response = await this.transport.fetch({ method: 'GET', path: pathOf(API.changes), headers }, signal);
    if (!response.ok || !response.body) throw this.client.refusal(await readReply(response));
    return textOf(response.body);
  }

  /** Every page of a cursor-paged list, following `next` until it is null (or absent). */
  all<T>(path: string, limit = 1000): Promise<T[]> {
    return this.client.all<T>(apiPath(path), { limit: String(limit) });
  }
}

async function readReply(response: Response): Promise<ApiReply> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON (a proxy's page): the status says what happened
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name] = value));
  return { status: response.status, statusText: response.statusText, headers, body };
}

async function* textOf(body: ReadableStream<Uint8Array>): AsyncIterable<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield decoder.decode(value, { stream: true });
    }
  } finally {
    void reader.cancel().catch(() => undefined);
  }
}

const apiPath = (path: string) => `${API_PREFIX.slice(1)}${path}`;

/** Who a token belongs to, asked before the token is kept anywhere. */
export async function whoami(token: string): Promise<Whoami> {
  return (await new ApiClient(new FetchTransport(token)).call(API.whoami)).body;
}
