import { type Operation, pathOf } from './api-routes';
import type { Page } from './api-types';
import { ApiError, refusal } from './problem';

/** A request as a transport sends it. The transport adds the token (and whatever its platform needs). */
export interface ApiRequest {
  method: string;
  /** Relative to the service's base address, e.g. `api/v1/secrets?after=…`. */
  path: string;
  json?: unknown;
  headers?: Record<string, string>;
  /** The longest silence before the answer; the transport's own default when absent. */
  timeoutMs?: number;
}

export interface ApiReply<T = unknown> {
  status: number;
  statusText: string;
  /** Names in lower case. */
  headers: Record<string, string | undefined>;
  /** The body as parsed JSON; undefined when empty or not JSON. */
  body: T;
}

/**
 * How requests reach the service: Node's http/https for the SDK and the CLI (a CA file, a
 * kept-alive agent), `fetch` for the console. It answers whatever the status, and throws only
 * when there is no answer (unreachable, untrusted certificate, timeout), in its caller's words.
 */
export interface Transport {
  send(request: ApiRequest): Promise<ApiReply>;
}

export interface CallOptions<Body = unknown> {
  json?: Body;
  /** The version last seen: sent as `If-Match`, so a change made since is refused (412). */
  ifMatch?: number;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export interface RouteOptions<Body> extends CallOptions<Body> {
  params?: Record<string, string>;
  query?: Record<string, string | undefined>;
}

/**
 * The HTTP API (SPEC §3) over a transport, the same for every client in this repository: JSON
 * in, JSON out, `If-Match` from a version, cursor paging, and every non-2xx answer thrown as an
 * ApiError carrying the service's problem+json.
 */
export class ApiClient {
  constructor(
    private readonly transport: Transport,
    /** Sees every refusal before it is thrown (the console ends its session on a 401). */
    private readonly onRefusal: (error: ApiError) => void = () => undefined,
  ) {}

  /** One route, typed by its entry in API; `params` fill its path, `query` follows it. */
  call<Reply, Body>(operation: Operation<Reply, Body>, { params, query, ...options }: RouteOptions<Body> = {}): Promise<ApiReply<Reply>> {
    return this.request<Reply>(operation.method, pathOf(operation, params, query), options);
  }

  async request<T = unknown>(method: string, path: string, { json, ifMatch, headers = {}, timeoutMs }: CallOptions = {}): Promise<ApiReply<T>> {
    const reply = await this.transport.send({
      method,
      path,
      json,
      timeoutMs,
      headers: {
        ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(ifMatch !== undefined ? { 'if-match': `"${ifMatch}"` } : {}),
        ...headers,
      },
    });
    if (reply.status >= 200 && reply.status < 300) return reply as ApiReply<T>;
    throw this.refusal(reply);
  }

  /** The error a non-2xx answer means (for a reply read outside `request`, e.g. a download's). */
  refusal(reply: ApiReply): ApiError {
    const error = refusal(reply.status, reply.statusText, reply.body);
    this.onRefusal(error);
    return error;
  }

  /** Every item of a cursor-paged list, following `next` until it is null or absent. */
  async all<T>(path: string, query: Record<string, string> = {}): Promise<T[]> {
    const items: T[] = [];
    let after: string | null = null;
    do {
      const search = new URLSearchParams(query);
      if (after !== null) search.set('after', after);
      const page: { body: Partial<Page<T>> & { items: T[] } } = await this.request('GET', search.toString() !== '' ? `${path}${path.includes('?') ? '&' : '?'}${search}` : path);
      items.push(...page.body.items);
      // A `next` that does not move would page for ever.
      after = page.body.next && page.body.next !== after ? page.body.next : null;
    } while (after !== null);
    return items;
  }
}

export { ApiError };
