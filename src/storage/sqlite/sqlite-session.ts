import type { Database, Statement } from 'better-sqlite3';
import type { Dialect, SqlSession, SqlValue } from '../sql';

export const SQLITE_DIALECT: Dialect = {
  engine: 'sqlite',
  greatest: (a, b) => `MAX(${a}, ${b})`,
  actorId: "json_extract(actor, '$.id')",
  typeColumnInSeqOrder: '+type',
  joinInThisOrder: 'CROSS JOIN',
  // A statement costs no round trip here: two plain ones are as cheap.
  writesInOneStatement: false,
};

/**
 * The port's session over one better-sqlite3 connection. better-sqlite3 is synchronous: each
 * call runs to completion before its promise settles, so the port's `await`s cost a microtask,
 * not a thread hop. Statements are prepared once per SQL text.
 */
export class SqliteSession implements SqlSession {
  readonly dialect = SQLITE_DIALECT;
  private readonly statements = new Map<string, Statement<unknown[]>>();
  private readonly rawStatements = new Map<string, Statement<unknown[]>>();

  constructor(readonly db: Database) {}

  async all<R extends object>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    return this.prepared(sql).all(...params) as R[];
  }

  async values<R extends unknown[]>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    let statement = this.rawStatements.get(sql);
    if (!statement) {
      statement = this.db.prepare<unknown[]>(sql).raw(true);
      this.rawStatements.set(sql, statement);
    }
    return statement.all(...params) as R[];
  }

  async get<R extends object>(sql: string, params: readonly SqlValue[] = []): Promise<R | undefined> {
    return this.prepared(sql).get(...params) as R | undefined;
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.prepared(sql).run(...params).changes;
  }

  private prepared(sql: string): Statement<unknown[]> {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare<unknown[]>(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}
