import { Client, Pool } from 'pg';
import { postgresFault } from '../../src/storage/postgres/postgres-faults';
import { openPostgres, OpenedPostgres } from '../../src/storage/postgres/open-postgres';
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

describe('postgresFault, on errors of a real server', () => {
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
    expect(postgresFault(await thrownBy(() => client.connect()))).toEqual({ reason: 'PostgreSQL refused the connection', code: 'ECONNREFUSED' });
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
    const fault = postgresFault(await thrownBy(() => client.query('SELECT 1')));
    expect(fault?.reason).toMatch(/PostgreSQL/);
    expect(['57P01', '']).toContain(fault?.code);
    await client.end().catch(() => undefined);
  });

  it('calls a read-only database unavailable', async () => {
    const client = await storage.pool.connect();
    try {
      await client.query('BEGIN READ ONLY');
      const error = await thrownBy(() => client.query("INSERT INTO storage_probe (id, at) VALUES (1, 'now')"));
      expect(postgresFault(error)).toEqual({ reason: 'the database is read-only', code: '25006' });
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('calls a statement timeout unavailable', async () => {
    const client = await storage.pool.connect();
    try {
      await client.query("SET statement_timeout = '50ms'");
      expect(postgresFault(await thrownBy(() => client.query('SELECT pg_sleep(1)')))).toMatchObject({ code: '57014' });
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
    expect(postgresFault(error)).toBeUndefined();
  });
});
