import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS as SQLITE_MIGRATIONS } from '../../src/storage/migrations';
import { openPostgres, OpenedPostgres } from '../../src/storage/postgres/open-postgres';
import { POSTGRES_MIGRATIONS } from '../../src/storage/postgres/migrations';
import { FreshDatabase, freshDatabase } from '../support/postgres';

/** The SQLite schema its migrations build: each table's columns in order, and the named indexes. */
async function sqliteSchema(): Promise<{ tables: Record<string, string[]>; indexes: string[] }> {
  const dataSource = await new DataSource({ type: 'better-sqlite3', database: ':memory:', migrations: SQLITE_MIGRATIONS, migrationsRun: true }).initialize();
  try {
    const names: Array<{ name: string }> = await dataSource.query(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'migrations' ORDER BY name",
    );
    const tables: Record<string, string[]> = {};
    for (const { name } of names) tables[name] = (await dataSource.query(`SELECT name FROM pragma_table_info('${name}') ORDER BY cid`)).map((c: { name: string }) => c.name);
    const indexes: Array<{ name: string }> = await dataSource.query("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name");
    return { tables, indexes: indexes.map((index) => index.name) };
  } finally {
    await dataSource.destroy();
  }
}

const appendSql = `
  INSERT INTO events (seq, id, stream, version, type, data, ciphertext, actor, at, prev_hash, hash)
  VALUES ($1, $2, $3, $4, 'SecretAdded', $5, $6, $7, '2026-12-06T10:00:00.000Z', $8, $9)`;

function append(pool: Pool, seq: number, stream: string, version: number) {
  const data = `{"key":"K${seq}", "note": "spacing kept"}`; // not normalised: the hash covers this exact text
  const actor = `{"id":"tok_${seq % 2}","name":"admin"}`;
  return pool.query(appendSql, [seq, `evt_${seq}`, stream, version, data, Buffer.from([0, 255, seq]), actor, `prev_${seq}`, `hash_${seq}`]);
}

describe('the PostgreSQL schema', () => {
  let db: FreshDatabase;
  let storage: OpenedPostgres;

  beforeAll(async () => {
    // English collation, as on many managed servers, where text does not sort in byte order.
    db = await freshDatabase('schema', { icuLocale: 'en' });
  });

  afterAll(async () => {
    await storage?.close();
    await db?.drop();
  });

  it('is migrated once when two instances start together', async () => {
    const [a, b] = await Promise.all([openPostgres(db.url), openPostgres(db.url)]);
    storage = a;
    await b.close();

    const { rows } = await a.pool.query<{ name: string }>('SELECT name FROM migrations ORDER BY id');
    expect(rows.map((row) => row.name)).toEqual(POSTGRES_MIGRATIONS.map((migration) => new migration().name));

    const again = await openPostgres(db.url);
    await again.close();
    const { rows: after } = await a.pool.query<{ n: number }>('SELECT COUNT(*) AS n FROM migrations');
    expect(after[0].n).toBe(POSTGRES_MIGRATIONS.length);
  });

  it('has one migration per SQLite migration, of the same date', () => {
    const timestamp = (name: string) => name.slice(-13);
    expect(POSTGRES_MIGRATIONS.map((m) => timestamp(new m().name))).toEqual(SQLITE_MIGRATIONS.map((m) => timestamp(new m().name!)));
  });

  it('has the tables, columns and named indexes of the SQLite schema', async () => {
    const sqlite = await sqliteSchema();
    const { rows: columns } = await storage.pool.query<{ table_name: string; column_name: string }>(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> 'migrations' ORDER BY table_name, ordinal_position",
    );
    const tables: Record<string, string[]> = {};
    for (const { table_name, column_name } of columns) (tables[table_name] ??= []).push(column_name);
    expect(tables).toEqual(sqlite.tables);
    // Indexes PostgreSQL names after a constraint (…_pkey, …_key) are SQLite's automatic ones.
    const { rows: indexes } = await storage.pool.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename <> 'migrations' AND indexname !~ '_(pkey|key)$' ORDER BY indexname",
    );
    expect(indexes.map((row) => row.indexname)).toEqual(sqlite.indexes);
  });

  it('keeps data and actor as the exact text written, blobs as bytes, and seq as a number', async () => {
    await append(storage.pool, 1, 'secret-A', 1);
    const { rows } = await storage.pool.query('SELECT seq, data, actor, ciphertext, version FROM events WHERE seq = 1');
    expect(rows[0]).toEqual({
      seq: 1,
      data: '{"key":"K1", "note": "spacing kept"}',
      actor: '{"id":"tok_1","name":"admin"}',
      ciphertext: Buffer.from([0, 255, 1]),
      version: 1,
    });
    const { rows: counted } = await storage.pool.query('SELECT COUNT(*) AS n, MAX(seq) AS head FROM events');
    expect(counted[0]).toEqual({ n: 1, head: 1 });
  });

  it('parses BIGINT as a number in its own pool only, leaving pg\'s global parser alone', async () => {
    const plain = new Pool({ connectionString: db.url });
    try {
      const { rows } = await plain.query('SELECT seq FROM events WHERE seq = 1');
      expect(rows).toEqual([{ seq: '1' }]);
    } finally {
      await plain.end();
    }
  });

  it('refuses a second event with the same stream and version', async () => {
    await append(storage.pool, 2, 'secret-B', 1);
    await expect(append(storage.pool, 3, 'secret-B', 1)).rejects.toMatchObject({ code: '23505', constraint: 'events_stream_version_key' });
    await expect(append(storage.pool, 3, 'secret-B', 2)).resolves.toBeDefined();
  });

  it.each([
    ['UPDATE', "UPDATE events SET data = '{}' WHERE seq = 1"],
    ['DELETE', 'DELETE FROM events WHERE seq = 1'],
    ['TRUNCATE', 'TRUNCATE events CASCADE'],
  ])('refuses %s on events, whoever connects', async (operation, sql) => {
    await expect(storage.pool.query(sql)).rejects.toThrow(`events are append-only: ${operation} refused`);
    const { rows } = await storage.pool.query("SELECT data FROM events WHERE seq = 1");
    expect(rows).toEqual([{ data: '{"key":"K1", "note": "spacing kept"}' }]);
  });

  it.each([
    ['UPDATE', "UPDATE event_keys SET key = 'B'"],
    ['DELETE', 'DELETE FROM event_keys'],
    ['TRUNCATE', 'TRUNCATE event_keys'],
  ])('refuses %s on event_keys', async (operation, sql) => {
    await storage.pool.query("INSERT INTO event_keys (key, seq) VALUES ('A', 1) ON CONFLICT DO NOTHING");
    await expect(storage.pool.query(sql)).rejects.toThrow(`event_keys is append-only: ${operation} refused`);
  });

  it("finds events by actor through the index, with SQLite's json_extract expression", async () => {
    const client = await storage.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off'); // a three-row table would be scanned otherwise
      const { rows } = await client.query("SELECT seq FROM events WHERE json_extract(actor, '$.id') = $1 ORDER BY seq", ['tok_1']);
      expect(rows).toEqual([{ seq: 1 }, { seq: 3 }]);
      const plan = await client.query("EXPLAIN SELECT seq FROM events WHERE json_extract(actor, '$.id') = $1 ORDER BY seq", ['tok_1']);
      expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toContain('events_by_actor');
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });

  it('sorts keys in byte order, as SQLite does, whatever the database collation', async () => {
    for (const key of ['b', 'B', 'a_', 'A']) {
      await storage.pool.query(
        "INSERT INTO secrets (key, status, version, created_at, created_by, updated_at, updated_by) VALUES ($1, 'active', 1, 'now', 'me', 'now', 'me')",
        [key],
      );
    }
    const { rows } = await storage.pool.query('SELECT key FROM secrets ORDER BY key');
    expect(rows.map((row) => row.key)).toEqual(['A', 'B', 'a_', 'b']);
    const { rows: english } = await storage.pool.query('SELECT key FROM secrets ORDER BY key COLLATE "default"');
    expect(english.map((row) => row.key)).toEqual(['A', 'a_', 'b', 'B']); // the order the test guards against

  });
});
