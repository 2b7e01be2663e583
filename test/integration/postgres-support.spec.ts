import { Client } from 'pg';
import { answers, freshDatabase, locatePostgres, postgresServer } from '../support/postgres';
import { freePort } from '../support/nats';

async function query<T extends object>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function databaseExists(name: string): Promise<boolean> {
  const { url } = await postgresServer();
  return (await query(url, 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length === 1;
}

describe('freshDatabase', () => {
  it('gives each caller an empty database of its own', async () => {
    const [a, b] = await Promise.all([freshDatabase('support a'), freshDatabase('support a')]);
    try {
      expect(a.name).not.toBe(b.name);
      expect(a.url).not.toBe(b.url);
      const tables = await query(a.url, "SELECT table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')");
      expect(tables).toEqual([]);

      await query(a.url, 'CREATE TABLE only_in_a (n INTEGER)');
      const [inA] = await query<{ current: string }>(a.url, 'SELECT current_database() AS current');
      expect(inA.current).toBe(a.name);
      await expect(query(b.url, 'SELECT * FROM only_in_a')).rejects.toThrow(/only_in_a/);
    } finally {
      await Promise.all([a.drop(), b.drop()]);
    }
  });

  it('drops the database even while a connection to it is still open', async () => {
    const db = await freshDatabase('support drop');
    const leftover = new Client({ connectionString: db.url });
    leftover.on('error', () => undefined); // the drop terminates this session
    await leftover.connect();
    expect(await databaseExists(db.name)).toBe(true);

    await db.drop();

    expect(await databaseExists(db.name)).toBe(false);
    await leftover.end().catch(() => undefined);
  });
});

describe('locatePostgres on a machine with no server running', () => {
  it('starts a throwaway cluster that serves queries, and stops it', async () => {
    const dead = `postgres://postgres@127.0.0.1:${await freePort()}/postgres`;
    const server = await locatePostgres({ testDatabaseUrl: dead, localUrl: null });
    try {
      expect(server.origin).toBe('throwaway');
      expect(server.url).not.toBe(dead);
      const [row] = await query<{ sum: number }>(server.url, 'SELECT 20 + 22 AS sum');
      expect(row.sum).toBe(42);
    } finally {
      await server.stop();
    }
    expect(await answers(server.url)).toBe(false);
  }, 60_000);

  it('fails, naming the package to install, when no server answers and PostgreSQL is not installed', async () => {
    const dead = `postgres://postgres@127.0.0.1:${await freePort()}/postgres`;
    await expect(locatePostgres({ testDatabaseUrl: dead, localUrl: null, binDirs: ['/nonexistent'] })).rejects.toThrow(/apt-get install postgresql/);
  });

  it('uses TEST_DATABASE_URL first when it answers', async () => {
    const db = await freshDatabase('support first');
    try {
      const server = await locatePostgres({ testDatabaseUrl: db.url, binDirs: [] });
      expect(server).toMatchObject({ url: db.url, origin: 'TEST_DATABASE_URL' });
    } finally {
      await db.drop();
    }
  });
});
