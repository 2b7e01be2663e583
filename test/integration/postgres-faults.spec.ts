import { connect, createServer, type AddressInfo } from 'node:net';
import { Client, Pool } from 'pg';
import { POSTGRES_LIMIT_DEFAULTS, PostgresLimits } from '../../src/config/configuration';
import { OpenedStorage, openPostgresStorage } from '../../src/storage/database.module';
import { ADVISORY_LOCKS } from '../../src/storage/postgres/advisory-locks';
import { PostgresStorage } from '../../src/storage/postgres/postgres-storage';
import { commitMayHaveLanded, commitOutcome, settleFailedCommit } from '../../src/storage/postgres/commit-outcome';
import { CommitOutcomeUnknownError, StorageUnavailableError } from '../../src/storage/storage-fault';
import { asStorageUnavailable } from '../../src/storage/storage-fault';
import { openPostgres, OpenedPostgres, POSTGRES_TYPES, postgresClientConfig } from '../../src/storage/postgres/open-postgres';
import { freePort } from '../support/nats';
import { FreshDatabase, freshDatabase, postgresServer } from '../support/postgres';

/** What `work` throws, to classify; fails the test if it does not throw. */
async function thrownBy(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

const insertEvent = (pool: Pool, seq: number, version: number) =>
  pool.query(
    "INSERT INTO events (seq, id, stream, version, type, data, actor, at, prev_hash, hash) VALUES ($1, $2, 'secret-F', $3, 'SecretAdded', '{}', '{}', 'now', 'p', 'h')",
    [seq, `evt_fault_${seq}`, version],
  );

/** What the one fault mapping makes of an error: its reason and engine code, or undefined. */
function faultOf(error: unknown) {
  const fault = asStorageUnavailable(error);
  return fault && { reason: fault.reason, code: fault.engineCode };
}

describe('the storage fault mapping, on errors of a real PostgreSQL server', () => {
  let db: FreshDatabase;
  let storage: OpenedPostgres;

  beforeAll(async () => {
    db = await freshDatabase('faults');
    storage = await openPostgres(db.url);
    await insertEvent(storage.pool, 1, 1);
  });

  afterAll(async () => {
    await storage?.close();
    await db?.drop();
  });

  it('calls a server that does not answer unavailable', async () => {
    const client = new Client({ connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/postgres` });
    expect(faultOf(await thrownBy(() => client.connect()))).toEqual({ reason: 'PostgreSQL refused the connection', code: 'ECONNREFUSED' });
  });

  it('calls a session the server ended unavailable', async () => {
    const client = new Client({ connectionString: db.url });
    client.on('error', () => undefined);
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const { url } = await postgresServer();
    const admin = new Client({ connectionString: url });
    await admin.connect();
    await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
    await admin.end();
    const fault = faultOf(await thrownBy(() => client.query('SELECT 1')));
    expect(fault?.reason).toMatch(/PostgreSQL/);
    expect(['57P01', '']).toContain(fault?.code);
    await client.end().catch(() => undefined);
  });

  it('calls a read-only database unavailable', async () => {
    const client = await storage.pool.connect();
    try {
      await client.query('BEGIN READ ONLY');
      const error = await thrownBy(() => client.query("INSERT INTO storage_probe (id, at) VALUES (1, 'now')"));
      expect(faultOf(error)).toEqual({ reason: 'the database is read-only', code: '25006' });
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('calls a statement timeout unavailable', async () => {
    const client = await storage.pool.connect();
    try {
      await client.query("SET statement_timeout = '50ms'");
      expect(faultOf(await thrownBy(() => client.query('SELECT pg_sleep(1)')))).toMatchObject({ code: '57014' });
    } finally {
      await client.query('RESET statement_timeout');
      client.release();
    }
  });

  it.each([
    ['a version conflict', () => insertEvent(storage.pool, 2, 1), '23505'],
    ['a refused rewrite of the log', () => storage.pool.query('DELETE FROM events'), '23000'],
    ['a mistake in a statement', () => storage.pool.query('SELEC 1'), '42601'],
  ])('leaves %s to the caller', async (_what, work, code) => {
    const error = await thrownBy(work);
    expect(error).toMatchObject({ code });
    expect(faultOf(error)).toBeUndefined();
  });
});

/**
 * SPEC §7's limits on a real server, through the service's own storage: each wait ends as a
 * StorageUnavailableError (503), rolled back on the server, so nothing refused commits later.
 */
describe('PostgreSQL limits: every wait ends, and what was refused never commits', () => {
  const LIMITS: PostgresLimits = { connectTimeoutMs: 500, acquireTimeoutMs: 500, lockTimeoutMs: 500, statementTimeoutMs: 800, idleInTransactionTimeoutMs: 400 };
  let db: FreshDatabase;
  let one: OpenedStorage & { storage: PostgresStorage };
  let other: OpenedStorage & { storage: PostgresStorage };
  let holder: Client;

  const probeRows = async () => (await one.storage.reader.all<{ id: number }>('SELECT id FROM limit_probe ORDER BY id')).map((row) => row.id);
  const write = (storage: PostgresStorage, id: number) =>
    storage.transact((tx) => tx.run("INSERT INTO limit_probe (id, at) VALUES (?, 'then')", [id]));
  const timed = async (work: Promise<unknown>) => {
    const started = Date.now();
    const outcome = await work.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    return { ...outcome, ms: Date.now() - started };
  };

  beforeAll(async () => {
    db = await freshDatabase('limits');
    one = await openPostgresStorage(db.url, LIMITS);
    other = await openPostgresStorage(db.url, LIMITS);
    await one.storage.reader.run('CREATE TABLE limit_probe (id INTEGER PRIMARY KEY, at TEXT NOT NULL)');
  });

  beforeEach(async () => {
    holder = new Client({ connectionString: db.url });
    holder.on('error', () => undefined);
    await holder.connect();
  });

  afterEach(async () => {
    await holder.end().catch(() => undefined);
  });

  afterAll(async () => {
    await one?.close();
    await other?.close();
    await db?.drop();
  });

  it('a session holding the append lock: writes of both instances are refused within the lock limit, readiness names the holder, and none of them commits after its release', async () => {
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.logAppend]);
    const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const outcomes = await Promise.all([1, 2, 3].flatMap((i) => [timed(write(one.storage, i)), timed(write(other.storage, 10 + i))]));
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ error: expect.any(StorageUnavailableError) });
      expect((outcome as { error: StorageUnavailableError }).error.engineCode).toBe('55P03');
      // The limit, twice at most (a job queued behind a batch that is waiting shares its refusal);
      // generous for a loaded machine, and far below "never".
      expect(outcome.ms).toBeLessThan(2 * LIMITS.lockTimeoutMs + 2_000);
    }
    expect(one.storage.fault).toMatchObject({ code: '55P03', reason: expect.stringMatching(/append lock/) });
    await expect(one.storage.blocker()).resolves.toMatchObject({ pid: rows[0].pid, reason: expect.stringMatching(/append lock has been held .* past the lock-wait limit/) });

    await holder.query('COMMIT');
    await expect(one.storage.blocker()).resolves.toBeUndefined();
    await write(other.storage, 99);
    await new Promise((resolve) => setTimeout(resolve, 2 * LIMITS.lockTimeoutMs));
    expect(await probeRows()).toEqual([99]);
    await one.storage.reader.run('DELETE FROM limit_probe');
  });

  it('an instance frozen inside its transaction: the server ends it at the idle-in-transaction limit, the other instance writes, and the frozen one is refused with nothing committed', async () => {
    let thaw!: () => void;
    const frozen = new Promise<void>((resolve) => (thaw = resolve));
    const stuck = timed(
      one.storage.transact(async (tx) => {
        await tx.run("INSERT INTO limit_probe (id, at) VALUES (7, 'frozen')");
        await frozen;
      }),
    );
    try {
      // Past the idle limit the server has ended the frozen session, and its lock with it.
      await new Promise((resolve) => setTimeout(resolve, LIMITS.idleInTransactionTimeoutMs + 200));
      const meanwhile = await timed(write(other.storage, 8));
      expect(meanwhile).not.toHaveProperty('error');
      expect(meanwhile.ms).toBeLessThan(LIMITS.lockTimeoutMs);
    } finally {
      thaw();
    }
    const outcome = await stuck;
    expect(outcome).toMatchObject({ error: expect.any(StorageUnavailableError) });
    expect(await probeRows()).toEqual([8]);
    await one.storage.reader.run('DELETE FROM limit_probe');
  });

  it('a statement past the statement limit is refused and rolled back on the server', async () => {
    const outcome = await timed(
      one.storage.transact(async (tx) => {
        await tx.run("INSERT INTO limit_probe (id, at) VALUES (5, 'slow')");
        await tx.get('SELECT pg_sleep(5)');
      }),
    );
    expect(outcome).toMatchObject({ error: expect.objectContaining({ engineCode: '57014' }) });
    expect(outcome.ms).toBeLessThan(LIMITS.statementTimeoutMs + 2_000);
    expect(await probeRows()).toEqual([]);
  });

  it('no free connection within the acquire limit is a fault, and a server that never answers a connect is one within the connect limit', async () => {
    const small = await openPostgres(db.url, { poolSize: 1, limits: LIMITS });
    const busy = await small.pool.connect();
    try {
      const waited = await timed(small.pool.query('SELECT 1'));
      expect(faultOf((waited as { error: unknown }).error)).toEqual({ reason: expect.stringMatching(/connection-acquire limit/), code: '' });
      expect(waited.ms).toBeLessThan(LIMITS.acquireTimeoutMs + 2_000);
    } finally {
      busy.release();
      await small.close();
    }

    const silent = createServer(() => undefined).listen(0, '127.0.0.1');
    await new Promise((resolve) => silent.once('listening', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const client = new Client({ ...postgresClientConfig(LIMITS), connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
      const connecting = await timed(client.connect());
      expect(faultOf((connecting as { error: unknown }).error)).toEqual({ reason: expect.stringMatching(/connect limit/), code: '' });
      expect(connecting.ms).toBeLessThan(LIMITS.connectTimeoutMs + 2_000);
    } finally {
      silent.close();
    }
  });
});

/**
 * A COMMIT whose answer was lost may have committed: the batch asks the database what became of
 * its transaction instead of telling its callers "nothing was stored" (SPEC §3).
 */
describe('settling a COMMIT whose answer was lost', () => {
  let db: FreshDatabase;
  let opened: OpenedPostgres;

  const transactionOn = async (client: Client) => {
    await client.query('BEGIN');
    return (await client.query<{ xid: number; pid: number }>('SELECT txid_current() AS xid, pg_backend_pid() AS pid')).rows[0];
  };

  beforeAll(async () => {
    db = await freshDatabase('commit_outcome');
    opened = await openPostgres(db.url);
  });

  afterAll(async () => {
    await opened?.close();
    await db?.drop();
  });

  it('a transaction that committed is reported committed: its writes are acknowledged, not refused', async () => {
    const client = new Client({ connectionString: db.url, types: POSTGRES_TYPES });
    await client.connect();
    const { xid, pid } = await transactionOn(client);
    await client.query('COMMIT');
    await client.end();
    await expect(commitOutcome(opened.pool, xid, pid, 1_000)).resolves.toBe('committed');
  });

  it('a session still open (its COMMIT never arrived) is ended, and its transaction reported aborted', async () => {
    const client = new Client({ connectionString: db.url, types: POSTGRES_TYPES });
    client.on('error', () => undefined);
    await client.connect();
    const { xid, pid } = await transactionOn(client);
    await expect(commitOutcome(opened.pool, xid, pid, 3_000)).resolves.toBe('aborted');
    await expect(client.query('COMMIT')).rejects.toThrow();
    await client.end().catch(() => undefined);
  });

  it('a database that cannot be asked in time leaves the outcome unknown, never "nothing was stored"', async () => {
    const unreachable = new Pool({ ...postgresClientConfig({ ...POSTGRES_LIMIT_DEFAULTS, connectTimeoutMs: 200 }), connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/postgres` });
    try {
      await expect(commitOutcome(unreachable, 1, 1, 500)).resolves.toBe('unknown');
      const lost = Object.assign(new Error('Connection terminated unexpectedly'));
      await expect(settleFailedCommit(unreachable, lost, 1, 1, 500)).rejects.toBeInstanceOf(CommitOutcomeUnknownError);
    } finally {
      await unreachable.end();
    }
  });

  it('a COMMIT the server answered with an ERROR was rolled back: the failure stands as it is', async () => {
    const refused = Object.assign(new Error('could not serialize access'), { severity: 'ERROR', code: '40001' });
    expect(commitMayHaveLanded(refused)).toBe(false);
    await expect(settleFailedCommit(opened.pool, refused, 1, 1, 500)).rejects.toBe(refused);
    expect(commitMayHaveLanded(Object.assign(new Error('terminating connection'), { severity: 'FATAL', code: '57P01' }))).toBe(true);
  });
});

type CommitCut = 'after-forwarding' | 'instead-of-forwarding' | 'and-refuse-new-connections';

/**
 * A TCP relay to the real server that, once armed, cuts the connection on which a COMMIT passes:
 * after handing it to the server (which commits, its answer lost), or instead of it (which
 * never commits). The network fault a COMMIT can meet, on a real server.
 */
async function commitCutter(target: URL) {
  let armed: CommitCut | undefined;
  let refusing = false;
  const commit = Buffer.from('COMMIT\0');
  const server = createServer((client) => {
    if (refusing) return client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('data', (chunk) => client.write(chunk));
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.end());
    client.on('data', (chunk: Buffer) => {
      const at = chunk.indexOf(commit);
      // A simple-query message: 'Q', its length, the text.
      if (armed && at >= 5 && chunk[at - 5] === 0x51) {
        const cut = armed;
        armed = undefined;
        if (cut !== 'instead-of-forwarding') upstream.write(chunk);
        if (cut === 'and-refuse-new-connections') refusing = true;
        client.destroy();
        return;
      }
      upstream.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target.toString());
  url.port = String((server.address() as AddressInfo).port);
  url.hostname = '127.0.0.1';
  return {
    url: url.toString(),
    arm: (cut: CommitCut) => (armed = cut),
    accept: () => (refusing = false),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('a COMMIT that meets a lost connection, through the write queue', () => {
  const LIMITS: PostgresLimits = { ...POSTGRES_LIMIT_DEFAULTS, connectTimeoutMs: 300, acquireTimeoutMs: 500, statementTimeoutMs: 1_500 };
  let db: FreshDatabase;
  let cutter: Awaited<ReturnType<typeof commitCutter>>;
  let opened: OpenedStorage & { storage: PostgresStorage };
  let direct: Client;

  const rows = async () => (await direct.query<{ id: number }>('SELECT id FROM commit_probe ORDER BY id')).rows.map((row) => row.id);
  const write = (id: number) =>
    opened.storage.transact((tx) => tx.run("INSERT INTO commit_probe (id) VALUES (?)", [id])).then(
      () => 'acknowledged' as const,
      (error: unknown) => error,
    );

  beforeAll(async () => {
    db = await freshDatabase('commit_cut');
    direct = new Client({ connectionString: db.url });
    await direct.connect();
    await direct.query('CREATE TABLE commit_probe (id INTEGER PRIMARY KEY)');
    cutter = await commitCutter(new URL(db.url));
    opened = await openPostgresStorage(cutter.url, LIMITS);
  });

  afterAll(async () => {
    cutter?.accept();
    await opened?.close();
    await cutter?.close();
    await direct?.end();
    await db?.drop();
  });

  it('committed, its answer lost: the write is acknowledged (it is in the log), not refused', async () => {
    cutter.arm('after-forwarding');
    expect(await write(1)).toBe('acknowledged');
    expect(await rows()).toContain(1);
  });

  it('never committed (the COMMIT never arrived): refused as unavailable, and never appears', async () => {
    cutter.arm('instead-of-forwarding');
    expect(await write(2)).toBeInstanceOf(StorageUnavailableError);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await rows()).not.toContain(2);
  });

  it('the database cannot be asked in time: outcome-unknown, never "nothing was stored" (and it was stored)', async () => {
    cutter.arm('and-refuse-new-connections');
    const outcome = await write(3);
    cutter.accept();
    expect(outcome).toBeInstanceOf(CommitOutcomeUnknownError);
    expect(await rows()).toContain(3);
  });
});
