import Database from 'better-sqlite3';
import { BatchEngine, BatchTransaction, QueuedStorage } from '../group-commit';
import type { Leadership, SqlSession } from '../sql';
import { asStorageUnavailable } from '../storage-fault';
import { SQLITE_DIALECT, SqliteSession } from './sqlite-session';

const BUSY_TIMEOUT_MS = 5000;

/**
 * WAL lets readers proceed during a write; `synchronous=FULL` makes every COMMIT survive power
 * loss, which is what "acknowledged" means for a secrets store; the busy timeout covers the
 * CLI (rotate, rebuild) writing to the same file as a running service. `secure_delete` zeroes
 * what a delete or an update frees, so a destroyed data key (or one a rotation rewrapped) does
 * not linger in a free page or cell of the file.
 */
export function applyPragmas(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma('foreign_keys = ON');
  db.pragma('secure_delete = ON');
}

/** How long the WAL's truncation is retried when a batch or another process's reader is in the way. */
const FORGET_RETRY_MS = 200;
const FORGET_ATTEMPTS = 50;

/** Batches on the writer's connection: BEGIN IMMEDIATE takes the file's write lock before any read. */
class SqliteBatchEngine implements BatchEngine {
  private readonly stmt;

  constructor(private readonly session: SqliteSession) {
    const db = session.db;
    this.stmt = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      savepoint: db.prepare('SAVEPOINT job'),
      release: db.prepare('RELEASE job'),
      rollbackTo: db.prepare('ROLLBACK TO job'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
    };
  }

  async begin(): Promise<BatchTransaction> {
    const { db } = this.session;
    const stmt = this.stmt;
    stmt.begin.run();
    return {
      session: this.session,
      savepoint: async () => void stmt.savepoint.run(),
      release: async () => void stmt.release.run(),
      rollbackToSavepoint: async () => {
        stmt.rollbackTo.run();
        stmt.release.run();
      },
      commit: async () => void stmt.commit.run(),
      rollback: async () => {
        if (db.inTransaction) stmt.rollback.run();
      },
      stillOpen: () => db.inTransaction,
      // One process per data dir (DataDirLock): its own listeners are told after the commit.
      announce: async () => undefined,
    };
  }

  asFault(error: unknown) {
    return asStorageUnavailable(error);
  }
}

/**
 * The embedded engine: one service process on one SQLite file. Writes go through the group-commit
 * queue on the writer's connection; reads go through a second connection, which in WAL mode
 * sees only committed transactions — never the batch the writer has open between two jobs.
 */
export class SqliteStorage extends QueuedStorage {
  readonly dialect = SQLITE_DIALECT;
  readonly reader: SqlSession;
  private readonly readerDb: Database.Database;

  constructor(
    /** The writer's connection (TypeORM's, which ran the migrations). */
    readonly db: Database.Database,
    maxBatch?: number,
  ) {
    super(new SqliteBatchEngine(new SqliteSession(db)), maxBatch);
    this.readerDb = new Database(db.name);
    applyPragmas(this.readerDb);
    this.readerDb.pragma('query_only = ON');
    this.reader = new SqliteSession(this.readerDb);
  }

  /**
   * The WAL still holds the pages as they were before the delete (the row inserted, earlier
   * versions of its page): a checkpoint moves the zeroed pages into the file and TRUNCATE empties
   * the WAL, so neither file holds the bytes. It needs the writer's connection outside a batch and
   * no reader in another process on an older snapshot; it never blocks the event loop (busy
   * timeout 0 meanwhile) and is tried again shortly, for up to ten seconds.
   */
  override async forgetDeleted(): Promise<boolean> {
    for (let attempt = 1; attempt <= FORGET_ATTEMPTS; attempt++) {
      if (this.truncateWal()) return true;
      await new Promise((resolve) => setTimeout(resolve, FORGET_RETRY_MS));
    }
    return false;
  }

  private truncateWal(): boolean {
    if (!this.db.open || this.db.inTransaction) return false;
    this.db.pragma('busy_timeout = 0');
    try {
      const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      return result.busy === 0;
    } finally {
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }

  /** One service process per data dir (DataDirLock): it holds every role. */
  leadership(): Leadership {
    return { holds: async () => true, held: true, release: async () => undefined };
  }

  override async close(): Promise<void> {
    await super.close();
    if (this.readerDb.open) this.readerDb.close();
  }
}
