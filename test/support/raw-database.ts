import Database from 'better-sqlite3';
import { Pool } from 'pg';
import type { AppConfig } from '../../src/config/configuration';
import { POSTGRES_TYPES } from '../../src/storage/postgres/open-postgres';
import { PostgresSession } from '../../src/storage/postgres/postgres-session';
import type { Engine, SqlSession, SqlValue } from '../../src/storage/sql';
import { SqliteSession } from '../../src/storage/sqlite/sqlite-session';
import { filesContaining } from './data-dir';
import { engineOf } from './test-app';

/**
 * The app's database seen from outside the app, on whichever engine it runs: a connection of
 * its own (a second better-sqlite3 connection on the file, or a pg pool on the URL), which is
 * what an attacker with the database, or an operator with a SQL prompt, sees and can do.
 */
export interface RawDatabase extends SqlSession {
  readonly engine: Engine;
  countRows(table: string): Promise<number>;
  /**
   * Where the UTF-8 bytes of `needle` are stored: on SQLite every file of the data dir (WAL
   * included), on PostgreSQL every column of every row of every table (bytea as raw bytes).
   * Empty when they are stored nowhere.
   */
  placesHolding(needle: string): Promise<string[]>;
  /** `work` in one transaction on one connection of this handle. */
  transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function openRawDatabase(config: AppConfig): RawDatabase {
  return engineOf(config) === 'sqlite' ? rawSqlite(config) : rawPostgres(config.databaseUrl!);
}

/** Opens the raw database for `work` and closes it after. */
export async function withRawDatabase<T>(config: AppConfig, work: (db: RawDatabase) => Promise<T>): Promise<T> {
  const db = openRawDatabase(config);
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

export const countRows = (config: AppConfig, table: string) => withRawDatabase(config, (db) => db.countRows(table));

export const placesHolding = (config: AppConfig, needle: string) => withRawDatabase(config, (db) => db.placesHolding(needle));

/** Table names come from test code only: identifiers cannot be bound as parameters. */
function table(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a table name: ${name}`);
  return name;
}

function withCounting(session: SqlSession): Pick<RawDatabase, 'countRows'> {
  return {
    countRows: async (name) => (await session.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table(name)}`))!.n,
  };
}

/**
 * better-sqlite3 waits for a lock by blocking the thread, which is also the app's: the app could
 * never finish the transaction it is waited for. So this connection does not wait (timeout 0);
 * it gives the event loop a turn and tries again.
 */
class PatientSqliteSession extends SqliteSession {
  override all<R extends object>(sql: string, params?: readonly SqlValue[]) {
    return whenUnlocked(() => super.all<R>(sql, params));
  }

  override values<R extends unknown[]>(sql: string, params?: readonly SqlValue[]) {
    return whenUnlocked(() => super.values<R>(sql, params));
  }

  override get<R extends object>(sql: string, params?: readonly SqlValue[]) {
    return whenUnlocked(() => super.get<R>(sql, params));
  }

  override run(sql: string, params?: readonly SqlValue[]) {
    return whenUnlocked(() => super.run(sql, params));
  }
}

async function whenUnlocked<T>(work: () => Promise<T>, patienceMs = 10_000): Promise<T> {
  const deadline = Date.now() + patienceMs;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw asError(error);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/**
 * better-sqlite3's native part throws the SqliteError of the first test file that loaded it in
 * this process, which is no `Error` of a later file's realm: `rejects.toThrow` would then report
 * "did not throw". The same error, as an Error of this file.
 */
function asError(error: unknown): unknown {
  if (error instanceof Error || typeof (error as { message?: unknown })?.message !== 'string') return error;
  const { message, code } = error as { message: string; code?: string };
  return Object.assign(new Error(message, { cause: error }), { code });
}

function rawSqlite(config: AppConfig): RawDatabase {
  const db = new Database(config.databasePath, { timeout: 0, fileMustExist: true });
  const session = new PatientSqliteSession(db);
  return Object.assign(session, withCounting(session), {
    engine: 'sqlite' as const,
    placesHolding: async (needle: string) => filesContaining(config.dataDir, needle),
    transaction: async <T>(work: (tx: SqlSession) => Promise<T>): Promise<T> => {
      await session.run('BEGIN IMMEDIATE');
      try {
        const result = await work(session);
        await session.run('COMMIT');
        return result;
      } catch (error) {
        await session.run('ROLLBACK');
        throw error;
      }
    },
    close: async () => void db.close(),
  });
}

function rawPostgres(url: string): RawDatabase {
  const pool = new Pool({ connectionString: url, types: POSTGRES_TYPES, max: 2, application_name: 'secrets-ledger-test-raw' });
  // An idle connection ended by the server (the database dropped at the end) must not crash the run.
  pool.on('error', () => undefined);
  const session = new PostgresSession(pool);
  return Object.assign(session, withCounting(session), {
    engine: 'postgres' as const,
    placesHolding: (needle: string) => rowsHolding(session, Buffer.from(needle, 'utf8')),
    transaction: async <T>(work: (tx: SqlSession) => Promise<T>): Promise<T> => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(new PostgresSession(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  });
}

/** `table.column (row n)` for every stored column value holding `needle`, read in full from every table of the database. */
async function rowsHolding(session: SqlSession, needle: Buffer): Promise<string[]> {
  const tables = await session.all<{ schema: string; name: string }>(
    "SELECT table_schema AS schema, table_name AS name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
  );
  if (tables.length === 0) throw new Error('the database has no tables: is it the app\'s?');
  const hits: string[] = [];
  for (const { schema, name } of tables) {
    const rows = await session.all<Record<string, unknown>>(`SELECT * FROM "${schema.replace(/"/g, '""')}"."${name.replace(/"/g, '""')}"`);
    rows.forEach((row, i) => {
      for (const [column, value] of Object.entries(row)) {
        if (value !== null && storedBytes(value).includes(needle)) hits.push(`${schema}.${name}.${column} (row ${i + 1})`);
      }
    });
  }
  return hits;
}

/** A column value as the bytes it stands for: bytea as it is, text as UTF-8, anything else as its text form. */
function storedBytes(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Date) return Buffer.from(value.toISOString(), 'utf8');
  return Buffer.from(typeof value === 'object' ? JSON.stringify(value) : String(value), 'utf8');
}
