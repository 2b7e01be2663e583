import type { QueryArrayConfig, QueryConfig, QueryResult } from 'pg';
import type { Dialect, SqlSession, SqlValue } from '../sql';

export const POSTGRES_DIALECT: Dialect = {
  engine: 'postgres',
  greatest: (a, b) => `GREATEST(${a}, ${b})`,
  // The PostgreSQL migrations define json_extract for `$.a.b` paths, so the expression (and the
  // events_by_actor index on it) reads the same on both engines.
  actorId: "json_extract(actor, '$.id')",
  typeColumnInSeqOrder: 'type',
  joinInThisOrder: 'JOIN',
  writesInOneStatement: true,
};

/** A pg Pool or one of its clients: what runs a statement. */
export interface Queryable {
  query(config: QueryConfig | QueryArrayConfig): Promise<QueryResult>;
}

const numbered = new Map<string, string>();

/**
 * The port's SQL is written with `?`; PostgreSQL numbers its parameters. Our statements hold no
 * `?` inside string literals, so every `?` is a parameter.
 */
export function numberParameters(sql: string): string {
  let text = numbered.get(sql);
  if (text === undefined) {
    let n = 0;
    text = sql.replace(/\?/g, () => `$${++n}`);
    numbered.set(sql, text);
  }
  return text;
}

/** The port's session over the pg driver: a pool (each statement on its own) or a transaction's client. */
export class PostgresSession implements SqlSession {
  readonly dialect = POSTGRES_DIALECT;

  constructor(private readonly client: Queryable) {}

  async all<R extends object>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    return (await this.client.query({ text: numberParameters(sql), values: params as unknown[] })).rows as R[];
  }

  async values<R extends unknown[]>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    return (await this.client.query({ text: numberParameters(sql), values: params as unknown[], rowMode: 'array' })).rows as unknown as R[];
  }

  async get<R extends object>(sql: string, params: readonly SqlValue[] = []): Promise<R | undefined> {
    return (await this.all<R>(sql, params))[0];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return (await this.client.query({ text: numberParameters(sql), values: params as unknown[] })).rowCount ?? 0;
  }
}
