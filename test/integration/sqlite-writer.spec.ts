import Database from 'better-sqlite3';
import { join } from 'node:path';
import { applyPragmas } from '../../src/storage/database.module';
import { SqliteWriter } from '../../src/storage/sqlite-writer';
import { StorageUnavailableError } from '../../src/storage/storage-fault';
import { tempDataDir } from '../support/test-app';

/** The single writer on a real SQLite file: one commit for jobs that arrive together, per-job rollback. */
describe('SqliteWriter', () => {
  let temp: ReturnType<typeof tempDataDir>;
  let db: Database.Database;
  let writer: SqliteWriter;

  beforeEach(() => {
    temp = tempDataDir();
    db = new Database(join(temp.dir, 'writer.db'));
    applyPragmas(db);
    db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)');
    writer = new SqliteWriter(db);
  });

  afterEach(() => {
    db.close();
    temp.cleanup();
  });

  const insert = (name: string) => () => db.prepare('INSERT INTO items (name) VALUES (?)').run(name).lastInsertRowid;
  const names = () => (db.prepare('SELECT name FROM items ORDER BY id').all() as { name: string }[]).map((row) => row.name);
  /** Rows another connection sees: committed, not merely written inside an open transaction. */
  const committedRows = () => {
    const other = new Database(join(temp.dir, 'writer.db'), { readonly: true });
    try {
      return other.prepare('SELECT COUNT(*) AS n FROM items').get() as { n: number };
    } finally {
      other.close();
    }
  };

  it('runs on WAL with synchronous=FULL, so every COMMIT it waits for is synced to disk', () => {
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('shares one transaction between jobs that arrive together, and rolls back only the job that failed', async () => {
    let inOneTransaction = true;
    const outcomes = await Promise.allSettled([
      writer.write(insert('a')),
      writer.write(insert('a')), // UNIQUE violation: this job alone rolls back
      writer.write(() => {
        inOneTransaction &&= db.inTransaction;
        return insert('b')();
      }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(inOneTransaction).toBe(true);
    expect(names()).toEqual(['a', 'b']);
    expect(committedRows().n).toBe(2);
  });

  it('settles a job only after its batch has committed', async () => {
    let committedWhenSettled: number | undefined;
    await writer.write(insert('first')).then(() => (committedWhenSettled = committedRows().n));
    expect(committedWhenSettled).toBe(1);
  });

  it('when the commit itself fails, every job of the batch is rejected and none of them is stored', async () => {
    // A deferred foreign key is checked at COMMIT, after each job's savepoint was released: the
    // stand-in for a commit that fails on disk (full, I/O error), which cannot be staged here.
    db.exec('CREATE TABLE links (item_name TEXT NOT NULL REFERENCES items (name) DEFERRABLE INITIALLY DEFERRED)');
    const dangling = () => db.prepare("INSERT INTO links (item_name) VALUES ('no-such-item')").run();
    const outcomes = await Promise.allSettled([writer.write(insert('x')), writer.write(dangling), writer.write(insert('y'))]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(db.inTransaction).toBe(false);
    expect(names()).toEqual([]);
    // The writer goes on: the next batch commits normally.
    await writer.write(insert('z'));
    expect(committedRows().n).toBe(1);
  });

  it('runs deferred work after every job of the batch, outside their savepoints, only for jobs that succeeded', async () => {
    const seen: { name: string; rows: string[] }[] = [];
    const deferring = (name: string, fail = false) => () => {
      insert(name)();
      writer.defer(() => {
        seen.push({ name, rows: names() });
        insert(`${name}-deferred`)();
      });
      if (fail) throw new Error('this job fails after deferring');
    };
    const outcomes = await Promise.allSettled([writer.write(deferring('a')), writer.write(deferring('b', true)), writer.write(deferring('c'))]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    // Both ran after the last job (so after a's savepoint was released: c's row is there), in
    // job order, and none for the failed job b.
    expect(seen).toEqual([
      { name: 'a', rows: ['a', 'c'] },
      { name: 'c', rows: ['a', 'c', 'a-deferred'] },
    ]);
    expect(committedRows().n).toBe(4);
    expect(() => writer.defer(() => undefined)).toThrow(/inside a write job/);
  });

  it('deferred work that fails rolls the whole batch back and rejects every job', async () => {
    const outcomes = await Promise.allSettled([
      writer.write(insert('p')),
      writer.write(() => {
        insert('q')();
        writer.defer(insert('p')); // UNIQUE violation, found only at the end of the batch
      }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect(committedRows().n).toBe(0);
  });

  it('keeps order: jobs queued later see what earlier jobs wrote', async () => {
    const seen = await Promise.all([writer.write(insert('one')), writer.write(() => names())]);
    expect(seen[1]).toEqual(['one']);
  });

  /** An error as better-sqlite3 raises it for a storage fault (SqliteError carries `code`). */
  const sqliteError = (code: string) => Object.assign(new Error('database or disk is full'), { code });

  it('turns a storage fault into StorageUnavailableError and reports it as `fault` until a batch commits again', async () => {
    const outcome = writer.write(() => {
      throw sqliteError('SQLITE_FULL');
    });
    await expect(outcome).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(writer.fault).toMatchObject({ code: 'SQLITE_FULL', reason: 'the disk is full' });
    // A job that fails for its own reasons (not storage) says nothing about the storage.
    await expect(writer.write(insert('x')).then(() => writer.write(insert('x')))).rejects.not.toBeInstanceOf(StorageUnavailableError);
    expect(writer.fault).toBeUndefined();
  });

  it('a job that succeeds in a batch beside a faulted one clears the fault', async () => {
    await expect(writer.write(() => { throw sqliteError('SQLITE_IOERR_WRITE'); })).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(writer.fault).toBeDefined();
    const outcomes = await Promise.allSettled([writer.write(() => { throw sqliteError('SQLITE_IOERR_WRITE'); }), writer.write(insert('ok'))]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled']);
    expect(writer.fault).toBeUndefined();
  });

  it('when SQLite rolls the whole transaction back itself (as on SQLITE_FULL), no later job of the batch commits on its own', async () => {
    const outcomes = await Promise.allSettled([
      writer.write(insert('before')),
      writer.write(() => {
        db.exec('ROLLBACK'); // what SQLite does by itself on some I/O errors
        throw sqliteError('SQLITE_FULL');
      }),
      writer.write(insert('after')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(committedRows().n).toBe(0);
    expect(db.inTransaction).toBe(false);
    await writer.write(insert('later'));
    expect(names()).toEqual(['later']);
  });
});
