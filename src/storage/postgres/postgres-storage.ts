import type { Pool, PoolClient } from 'pg';
import { BatchEngine, BatchTransaction, QueuedStorage } from '../group-commit';
import type { SqlSession } from '../sql';
import { asStorageUnavailable } from '../storage-fault';
import { POSTGRES_DIALECT, PostgresSession } from './postgres-session';

/**
 * The advisory lock every append transaction takes before it reads the log's head. Held until
 * COMMIT, it serialises appends across every instance on the database: `seq` is then gap-free in
 * commit order (the holder's commit is visible before the next holder can read the head), and
 * the hash chain is one line. Its number is arbitrary but fixed: every instance must use it.
 */
export const LOG_APPEND_LOCK = 0x5ec7e75;

/** Batches on a pooled connection, each one transaction that first takes LOG_APPEND_LOCK. */
class PostgresBatchEngine implements BatchEngine {
  constructor(private readonly pool: Pool) {}

  async begin(): Promise<BatchTransaction> {
    const client = await this.pool.connect();
    let lost = false;
    let released = false;
    const onError = () => (lost = true);
    client.on('error', onError);
    const release = (error?: Error) => {
      if (released) return;
      released = true;
      client.off('error', onError);
      // A connection whose state is in doubt is destroyed rather than handed to the next batch.
      client.release(error ?? (lost ? new Error('connection lost') : undefined));
    };
    const q = async (text: string) => {
      try {
        await client.query(text);
      } catch (error) {
        if (asStorageUnavailable(error)) lost = true;
        throw error;
      }
    };
    try {
      await q('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [LOG_APPEND_LOCK]);
    } catch (error) {
      release(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    return batchOn(client, q, release, () => !lost);
  }

  asFault(error: unknown) {
    return asStorageUnavailable(error);
  }
}

function batchOn(client: PoolClient, q: (text: string) => Promise<void>, release: (error?: Error) => void, open: () => boolean): BatchTransaction {
  return {
    session: new PostgresSession(client),
    savepoint: () => q('SAVEPOINT job'),
    release: () => q('RELEASE SAVEPOINT job'),
    rollbackToSavepoint: async () => {
      await q('ROLLBACK TO SAVEPOINT job');
      await q('RELEASE SAVEPOINT job');
    },
    commit: async () => {
      await q('COMMIT');
      release();
    },
    rollback: async () => {
      try {
        if (open()) await q('ROLLBACK');
      } finally {
        release();
      }
    },
    stillOpen: open,
  };
}

/**
 * PostgreSQL: any number of service processes on one database. Writes go through the same
 * group-commit queue as SQLite's, on a pooled connection per batch; reads go through the pool,
 * each statement on its own (READ COMMITTED: committed state only).
 */
export class PostgresStorage extends QueuedStorage {
  readonly dialect = POSTGRES_DIALECT;
  readonly reader: SqlSession;

  constructor(
    readonly pool: Pool,
    maxBatch?: number,
  ) {
    super(new PostgresBatchEngine(pool), maxBatch);
    this.reader = new PostgresSession(pool);
  }
}
