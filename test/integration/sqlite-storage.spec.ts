import Database from 'better-sqlite3';
import fs, { fstatSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { WriteTransaction } from '../../src/storage/sql';
import { SqliteStorage, applyPragmas } from '../../src/storage/sqlite/sqlite-storage';
import { StorageUnavailableError } from '../../src/storage/storage-fault';
import { tempDataDir } from '../support/test-app';

/**
 * The SQLite adapter's write queue on a real file: one commit for jobs that arrive together,
 * per-job rollback, acknowledgement only after commit, and a reader that sees committed rows only.
 */
const realFsync = fs.fsync;

describe('SqliteStorage', () => {
  let temp: ReturnType<typeof tempDataDir>;
  let db: Database.Database;
  let storage: SqliteStorage;
  let batches: number[];

  beforeEach(() => {
    temp = tempDataDir();
    db = new Database(join(temp.dir, 'writer.db'));
    applyPragmas(db);
    db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)');
    storage = new SqliteStorage(db);
    batches = [];
    storage.observe({ batchCommitted: (jobs) => batches.push(jobs), batchFailed: () => batches.push(-1) });
  });

  afterEach(async () => {
    await storage.close();
    db.close();
    temp.cleanup();
  });

  const insert = (name: string) => (tx: WriteTransaction) => tx.run('INSERT INTO items (name) VALUES (?)', [name]);
  const names = () => (db.prepare('SELECT name FROM items ORDER BY id').all() as { name: string }[]).map((row) => row.name);
  /** Rows another connection sees: committed, not merely written inside an open transaction. */
  const committedRows = () => {
    const other = new Database(join(temp.dir, 'writer.db'), { readonly: true });
    try {
      return (other.prepare('SELECT COUNT(*) AS n FROM items').get() as { n: number }).n;
    } finally {
      other.close();
    }
  };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('runs on WAL and answers a job only after its COMMIT is synced to disk (the WAL file, off the event loop)', async () => {
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    // NORMAL: COMMIT itself does not sync (checkpoints still do); the queue syncs the WAL after it.
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    const walInode = statSync(join(temp.dir, 'writer.db-wal')).ino;
    const synced: number[] = [];
    const fsyncSpy = jest.spyOn(fs, 'fsync').mockImplementation(((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      synced.push(fstatSync(fd).ino);
      return realFsync(fd, callback);
    }) as typeof fs.fsync);
    try {
      let answered = false;
      const job = storage.transact(insert('durable')).then(() => (answered = true));
      await job;
      expect(answered).toBe(true);
      expect(synced).toEqual([walInode]);
    } finally {
      fsyncSpy.mockRestore();
    }
  });

  it('shares one transaction between jobs that arrive together, and rolls back only the job that failed', async () => {
    // Were each job its own transaction, the third would find the first one's row committed.
    let committedDuringThirdJob: number | undefined;
    const outcomes = await Promise.allSettled([
      storage.transact(insert('a')),
      storage.transact(insert('a')), // UNIQUE violation: this job alone rolls back
      storage.transact(async (tx) => {
        committedDuringThirdJob = committedRows();
        return insert('b')(tx);
      }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(committedDuringThirdJob).toBe(0);
    expect(batches).toEqual([3]);
    expect(names()).toEqual(['a', 'b']);
    expect(committedRows()).toBe(2);
  });

  it('settles a job only after its whole batch has committed, even while a later job of the batch is still running', async () => {
    const seenWhenFirstSettled: number[] = [];
    const first = storage.transact(insert('first')).then(() => seenWhenFirstSettled.push(committedRows()));
    // Joins the batch and holds it open for a while: a job settled before the commit would
    // find nothing committed yet.
    const second = storage.transact(async (tx) => {
      await sleep(50);
      return insert('second')(tx);
    });
    await Promise.all([first, second]);
    expect(batches).toEqual([2]);
    expect(seenWhenFirstSettled).toEqual([2]);
  });

  it('reads through `reader` see committed rows only, never a batch still open', async () => {
    let readerDuringJob: unknown[] | undefined;
    await storage.transact(async (tx) => {
      await insert('pending')(tx);
      readerDuringJob = await storage.reader.all('SELECT name FROM items');
    });
    expect(readerDuringJob).toEqual([]);
    expect(await storage.reader.all('SELECT name FROM items')).toEqual([{ name: 'pending' }]);
  });

  it('when the commit itself fails, every job of the batch is rejected and none of them is stored', async () => {
    // A deferred foreign key is checked at COMMIT, after each job's savepoint was released: the
    // stand-in for a commit that fails on disk (full, I/O error), which cannot be staged here.
    db.exec('CREATE TABLE links (item_name TEXT NOT NULL REFERENCES items (name) DEFERRABLE INITIALLY DEFERRED)');
    const dangling = (tx: WriteTransaction) => tx.run("INSERT INTO links (item_name) VALUES ('no-such-item')");
    const outcomes = await Promise.allSettled([storage.transact(insert('x')), storage.transact(dangling), storage.transact(insert('y'))]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(db.inTransaction).toBe(false);
    expect(names()).toEqual([]);
    // The queue goes on: the next batch commits normally.
    await storage.transact(insert('z'));
    expect(committedRows()).toBe(1);
  });

  it('inserts deferred rows after every job of the batch, together, only for jobs that succeeded', async () => {
    let kept: WriteTransaction | undefined;
    let seenByLastJob: string[] | undefined;
    const deferring = (name: string, fail = false) => async (tx: WriteTransaction) => {
      kept = tx;
      await insert(name)(tx);
      tx.deferInsert('items', ['name'], [[`${name}-deferred-1`], [`${name}-deferred-2`]]);
      // Still inside the jobs: nothing deferred by the earlier job is there yet.
      seenByLastJob = names();
      if (fail) throw new Error('this job fails after deferring');
    };
    const outcomes = await Promise.allSettled([storage.transact(deferring('a')), storage.transact(deferring('b', true)), storage.transact(deferring('c'))]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(seenByLastJob).toEqual(['a', 'c']);
    // After the last job (their ids follow c's row), in job order, and none for the failed job b.
    expect(names()).toEqual(['a', 'c', 'a-deferred-1', 'a-deferred-2', 'c-deferred-1', 'c-deferred-2']);
    expect(committedRows()).toBe(6);
    expect(batches).toEqual([3]);
    // A job's transaction is of no use once the job is over.
    expect(() => kept!.deferInsert('items', ['name'], [['late']])).toThrow(/has ended/);
    await expect(kept!.run('SELECT 1')).rejects.toThrow(/has ended/);
  });

  it('deferred rows that fail roll the whole batch back and reject every job', async () => {
    const outcomes = await Promise.allSettled([
      storage.transact(insert('p')),
      storage.transact(async (tx) => {
        await insert('q')(tx);
        tx.deferInsert('items', ['name'], [['p']]); // UNIQUE violation, found only at the end of the batch
      }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect(committedRows()).toBe(0);
  });

  it('keeps order: jobs queued later see what earlier jobs wrote', async () => {
    const seen = await Promise.all([storage.transact(insert('one')), storage.transact((tx) => tx.all('SELECT name FROM items'))]);
    expect(seen[1]).toEqual([{ name: 'one' }]);
  });

  /** An error as better-sqlite3 raises it for a storage fault (SqliteError carries `code`). */
  const sqliteError = (code: string) => Object.assign(new Error('database or disk is full'), { code });

  it('turns a storage fault into StorageUnavailableError and reports it as `fault` until a batch commits again', async () => {
    const outcome = storage.transact(async () => {
      throw sqliteError('SQLITE_FULL');
    });
    await expect(outcome).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(storage.fault).toMatchObject({ code: 'SQLITE_FULL', reason: 'the disk is full' });
    // A job that fails for its own reasons (not storage) says nothing about the storage.
    await expect(storage.transact(insert('x')).then(() => storage.transact(insert('x')))).rejects.not.toBeInstanceOf(StorageUnavailableError);
    expect(storage.fault).toBeUndefined();
  });

  it('a job that succeeds in a batch beside a faulted one clears the fault', async () => {
    const faulty = async () => {
      throw sqliteError('SQLITE_IOERR_WRITE');
    };
    await expect(storage.transact(faulty)).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(storage.fault).toBeDefined();
    const outcomes = await Promise.allSettled([storage.transact(faulty), storage.transact(insert('ok'))]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled']);
    expect(storage.fault).toBeUndefined();
  });

  it('when SQLite rolls the whole transaction back itself (as on SQLITE_FULL), no later job of the batch commits on its own', async () => {
    const outcomes = await Promise.allSettled([
      storage.transact(insert('before')),
      storage.transact(async () => {
        db.exec('ROLLBACK'); // what SQLite does by itself on some I/O errors
        throw sqliteError('SQLITE_FULL');
      }),
      storage.transact(insert('after')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(committedRows()).toBe(0);
    expect(db.inTransaction).toBe(false);
    await storage.transact(insert('later'));
    expect(names()).toEqual(['later']);
  });
});
