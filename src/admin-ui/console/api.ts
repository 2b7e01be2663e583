/** The console's only way to the service: `/api/v1` with the session's bearer token. */

// Types only (erased from the bundle): the service's own shapes, so the two cannot drift apart.
export type { AuditEntry } from '../../audit/audit-entry';
import type { VerifyResult as ChainVerifyResult } from '../../audit/chain-verifier';
import type { CheckpointReport } from '../../checkpoints/checkpoint-check';
/** `GET /audit/verify`, or `POST` with checkpoints (then `checkpoints` says what they showed). */
export type VerifyResult = ChainVerifyResult & { checkpoints?: CheckpointReport };
export type { SecretConsumer, SecretMeta } from '../../client/http-api';

export interface FieldProblem {
  field: string;
  message: string;
}

export interface Problem {
  status: number;
  title: string;
  detail: string;
  errors?: FieldProblem[];
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
  get status(): number {
    return this.problem.status;
  }
}

export interface Actor {
  id: string;
  name: string;
  role: string;
}

export interface HistoryEntry {
  version: number;
  type: string;
  at: string;
  actor: Actor;
  description?: string;
  valueChanged?: boolean;
  /** A rollback: the version whose value it sealed again. */
  toVersion?: number;
  /** The value this version holds was destroyed. */
  destroyed?: { at: string; by: string };
}

export interface TokenInfo {
  id: string;
  name: string;
  role: string;
  plugins: string[] | null;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface IssuedToken extends Omit<TokenInfo, 'revokedAt' | 'lastUsedAt'> {
  token: string;
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface AuditHead {
  seq: number;
  hash: string;
  at: string | null;
}

export type Role = 'admin' | 'auditor' | 'executor';

export interface Whoami {
  id: string;
  name: string;
  role: Role;
}

interface CallOptions {
  json?: unknown;
  /** The version the caller last saw: sent as `If-Match`, so a stale change is refused (412). */
  ifMatch?: number;
}

const BASE = '/api/v1';

export class Api {
  /** `onUnauthenticated`: the token stopped working (revoked): the session must end. */
  constructor(
    private readonly token: string,
    private readonly onUnauthenticated: () => void = () => undefined,
  ) {}

  async call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    return (response.status === 204 ? undefined : await response.json()) as T;
  }

  /** A download's bytes, fetched with the token in the header: a link could carry it only in its URL. */
  async blob(path: string): Promise<Blob> {
    return (await this.send('GET', path, {})).blob();
  }

  /** Every page of a cursor-paged list, following `next` until it is null (or absent). */
  async all<T>(path: string, limit = 1000): Promise<T[]> {
    const items: T[] = [];
    let after: string | null = null;
    do {
      const query = new URLSearchParams({ limit: String(limit) });
      if (after !== null) query.set('after', after);
      const page: Partial<Page<T>> & { items: T[] } = await this.call('GET', `${path}${path.includes('?') ? '&' : '?'}${query}`);
      items.push(...page.items);
      after = page.next && page.next !== after ? page.next : null;
    } while (after !== null);
    return items;
  }

  private async send(method: string, path: string, { json, ifMatch }: CallOptions): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (json !== undefined) headers['content-type'] = 'application/json';
    if (ifMatch !== undefined) headers['if-match'] = `"${ifMatch}"`;
    let response: Response;
    try {
      response = await fetch(BASE + path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json), cache: 'no-store' });
    } catch {
      throw new ApiError({ status: 0, title: 'Network error', detail: 'The service did not answer. Check your connection and try again.' });
    }
    if (response.ok) return response;
    const problem = await problemOf(response);
    if (problem.status === 401) this.onUnauthenticated();
    throw new ApiError(problem);
  }
}

async function problemOf(response: Response): Promise<Problem> {
  try {
    const body = (await response.json()) as Partial<Problem>;
    if (typeof body.detail === 'string') return { status: response.status, title: body.title ?? response.statusText, detail: body.detail, errors: body.errors };
  } catch {
    // not problem+json (a proxy's page): fall through to a generic message
  }
  return { status: response.status, title: response.statusText, detail: `The service answered ${response.status} ${response.statusText}.` };
}

/** Who a token belongs to, asked before the token is kept anywhere. */
export function whoami(token: string): Promise<Whoami> {
  return new Api(token).call<Whoami>('GET', '/whoami');
}
