import Database from 'better-sqlite3';
import { Client } from 'pg';
import { AuditLog } from '../../audit/audit-log';
import { describeDatabaseUrl } from '../../config/configuration';
import { POSTGRES_TYPES } from '../../storage/postgres/open-postgres';
import { PostgresSession } from '../../storage/postgres/postgres-session';
import type { SqlSession } from '../../storage/sql';
import { SqliteSession } from '../../storage/sqlite/sqlite-session';
import { CommandFailure, EXIT } from '../admin/exit-codes';
import { requireDatabaseFile } from '../existing-database';

/** A database opened so that a reviewer's check can never change what it checks. */
export interface ReadOnlyLedger {
  readonly session: SqlSession;
  readonly log: AuditLog;
  close(): Promise<void>;
}

/** A SQLite file, read-only; no keys, no Nest app, no migration. */
export function openSqliteLedger(path: string): ReadOnlyLedger {
  const absolute = requireDatabaseFile(path);
  let db: Database.Database;
  try {
    db = new Database(absolute, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new Error(`cannot open ${absolute}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const session = new SqliteSession(db);
  return { session, log: new AuditLog(session), close: async () => void db.close() };
}

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * One connection to the PostgreSQL database, in read-only mode for the whole session, and never
 * migrated (unlike the service's, which brings the schema up to date). Errors name the server,
 * never its credentials.
 */
export async function openPostgresLedger(url: string): Promise<ReadOnlyLedger> {
  const client = new Client({ connectionString: url, types: POSTGRES_TYPES, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'secrets-ledger audit' });
  // A connection the server ends while idle must not crash the CLI; the next query fails instead.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY');
  } catch (error) {
    await client.end().catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    throw new CommandFailure(`cannot open the PostgreSQL database ${describeDatabaseUrl(url)}: ${reason}`, EXIT.unavailable);
  }
  const session = new PostgresSession(client);
  return { session, log: new AuditLog(session), close: () => client.end() };
}
