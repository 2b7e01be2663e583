import Database from 'better-sqlite3';
import { closeSync, fsync, openSync } from 'node:fs';
import { BatchEngine, BatchTransaction, QueuedStorage } from '../group-commit';
import type { Leadership, SqlSession } from '../sql';
import { asStorageUnavailable } from '../storage-fault';
import { SQLITE_DIALECT, SqliteSession } from './sqlite-session';

/**
 * WAL lets readers proceed during a write; `synchronous=FULL` makes every COMMIT survive power
 * loss, which is what "acknowledged" means for a secrets store (the service's own writer then
 * moves the sync out of COMMIT: WalSync); the busy timeout covers the CLI (rotate, rebuild)
 * writing to the same file as a running service.
 */
export function applyPragmas(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
}

const fsyncFile = (fd: number) => new Promise<void>((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));

/**
 * The writer's durability, off the event loop. With `synchronous=FULL`, COMMIT syncs the WAL
 * itself, inside better-sqlite3's synchronous call: the whole process waits on the disk, a sixth
 * of a resolve's CPU time on an idle machine and most of it when the disk is busy
 * (docs/BENCHMARKS.md, profile). The writer runs on `synchronous=NORMAL` instead — the same WAL
 * writes, and SQLite still syncs around every checkpoint — and the queue syncs the WAL file
 * after each COMMIT on libuv's thread pool before it answers any job of the batch: the same
 * guarantee (nothing acknowledged before it is on disk), while requests keep being read,
 * authenticated and queued for the next batch. Other connections may see a batch between its
 * COMMIT and the sync; nothing they answer with is acknowledged before a later sync, which
 * covers the earlier one (a resolve's own audit record is written after what it read).
 */
class WalSync {
  private fd: number | undefined;

  constructor(private readonly walPath: string) {}

  async sync(): Promise<void> {
    // The WAL exists from the writer's first write until the last connection closes; ours stay open.
    this.fd ??= openSync(this.walPath, 'r');
    await fsyncFile(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Batches on the writer's connection: BEGIN IMMEDIATE takes the file's write lock before any read. */
class SqliteBatchEngine implements BatchEngine {
  private readonly stmt;

  constructor(
    private readonly session: SqliteSession,
    private readonly wal: WalSync,
  ) {
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
      commit: async () => {
        stmt.commit.run();
        await this.wal.sync();
      },
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
  private readonly wal: WalSync;

  constructor(
    /** The writer's connection (TypeORM's, which ran the migrations). */
    readonly db: Database.Database,
    maxBatch?: number,
  ) {
    const wal = new WalSync(`${db.name}-wal`);
    super(new SqliteBatchEngine(new SqliteSession(db), wal), maxBatch);
    this.wal = wal;
    // The queue syncs each commit itself (WalSync); SQLite keeps the checkpoints' syncs.
    db.pragma('synchronous = NORMAL');
    this.readerDb = new Database(db.name);
    applyPragmas(this.readerDb);
    this.readerDb.pragma('query_only = ON');
    this.reader = new SqliteSession(this.readerDb);
  }

  /** One service process per data dir (DataDirLock): it holds every role. */
  leadership(): Leadership {
    return { holds: async () => true, held: true, release: async () => undefined };
  }

  override async close(): Promise<void> {
    await super.close();
    this.wal.close();
    if (this.readerDb.open) this.readerDb.close();
  }
}
