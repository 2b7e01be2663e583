import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { Client } from 'pg';
import { runCliToEnd, startServe, stop } from '../support/cli';
import { FreshDatabase, freshDatabase } from '../support/postgres';
import { ADMIN_TOKEN, tempDataDir } from '../support/test-app';
import { signingKeyFile } from '../support/signing-key';

/**
 * `audit verify | export` on each source the CLI reads a trail from — PostgreSQL (DATABASE_URL),
 * the running service's API with an auditor token (SECRETS_URL, SECRETS_TOKEN), and a SQLite
 * file (--db) — each first intact, then with one row edited past its guard at seq 4. Also: two
 * settings that each name a trail are refused, not guessed, and a secrets.db left in ./data is
 * never read while DATABASE_URL is set.
 */
describe('audit verify and export choose their source, and report a broken chain on every one', () => {
  const work = tempDataDir('secrets-ledger-audit-sources-');
  const masterKeys = `src-1:${randomBytes(32).toString('base64')}`;
  /** The password is never asked (trust auth) and must never be printed. */
  const PASSWORD = `pw-canary-${randomBytes(6).toString('hex')}`;
  const TAMPERED_SEQ = 4;
  let database: FreshDatabase;
  let databaseUrl: string;
  let pgService: { child: ChildProcess; url: string };
  let sqliteService: { child: ChildProcess; url: string } | undefined;
  let sqliteFile: string;
  let auditor: string;
  let executor: string;
  /** Everything every CLI run printed, searched at the end for tokens and the password. */
  const printed: string[] = [];

  const cli = async (args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) => {
    const result = await runCliToEnd(args, env, 60_000, cwd);
    printed.push(result.stdout, result.stderr);
    return result;
  };
  const env = {
    postgres: () => ({ DATABASE_URL: databaseUrl }),
    api: () => ({ SECRETS_URL: pgService.url, SECRETS_TOKEN: auditor }),
    file: () => ({}),
  };
  const sourceArgs = { postgres: [] as string[], api: [] as string[], file: () => ['--db', sqliteFile] };
  const args = (source: keyof typeof env) => (source === 'file' ? sourceArgs.file() : sourceArgs[source]);
  /** How the CLI names the PostgreSQL database: without user and password. */
  const describedDatabase = () => {
    const url = new URL(database.url);
    return `${url.protocol}//${url.host}/${database.name}`;
  };
  /** The database each source reads: the API is the service on PostgreSQL. */
  const engineOf = (source: keyof typeof env) => (source === 'file' ? 'sqlite' : 'postgres');

  async function pgRows(): Promise<Array<{ seq: number; hash: string }>> {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query('SELECT seq::int AS seq, hash FROM events ORDER BY seq')).rows;
    } finally {
      await client.end();
    }
  }
  function fileRows(): Array<{ seq: number; hash: string }> {
    const db = new Database(sqliteFile, { readonly: true });
    try {
      return db.prepare('SELECT seq, hash FROM events ORDER BY seq').all() as Array<{ seq: number; hash: string }>;
    } finally {
      db.close();
    }
  }
  const rowsOf = (source: keyof typeof env) => (engineOf(source) === 'sqlite' ? Promise.resolve(fileRows()) : pgRows());

  async function seed(url: string, keys: string[]): Promise<void> {
    const call = async (path: string, method: string, json: unknown) => {
      const res = await fetch(url + path, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(json) });
      expect(res.status).toBeLessThan(300);
    };
    for (const key of keys) await call('/api/v1/secrets', 'POST', { key, value: `value-of-${key}` });
    await call(`/api/v1/secrets/${keys[0]}`, 'PATCH', { description: 'changed' });
  }

  beforeAll(async () => {
    database = await freshDatabase('audit-sources');
    const withPassword = new URL(database.url);
    withPassword.password = PASSWORD;
    databaseUrl = withPassword.toString();
    const serviceEnv = { SECRETS_MASTER_KEYS: masterKeys, SECRETS_ADMIN_TOKEN: ADMIN_TOKEN, NATS_URL: 'nats://127.0.0.1:1' };
    pgService = await startServe({ ...serviceEnv, DATABASE_URL: databaseUrl, SECRETS_SIGNING_KEY_FILE: signingKeyFile(work.dir), SECRETS_DATA_DIR: join(work.dir, 'pg-service') });
    await seed(pgService.url, ['ALPHA', 'BETA', 'GAMMA', 'DELTA']);
    // The positive control of the final search: the CLI prints an issued token once, and the
    // search finds it in what was printed.
    const issue = async (role: string) => {
      const issued = await cli(['tokens', 'issue', '--name', `${role}-cli`, '--role', role, '--json'], { SECRETS_URL: pgService.url, SECRETS_TOKEN: ADMIN_TOKEN });
      expect(issued.status).toBe(0);
      return JSON.parse(issued.stdout).token as string;
    };
    auditor = await issue('auditor');
    executor = await issue('executor');

    const sqliteDir = join(work.dir, 'sqlite-service');
    sqliteService = await startServe({ ...serviceEnv, SECRETS_DATA_DIR: sqliteDir });
    await seed(sqliteService.url, ['ONE', 'TWO']);
    await stop(sqliteService.child);
    sqliteService = undefined;
    sqliteFile = join(sqliteDir, 'secrets.db');
  }, 120_000);

  afterAll(async () => {
    if (pgService) await stop(pgService.child);
    if (sqliteService) await stop(sqliteService.child);
    await database?.drop();
    work.cleanup();
  });

  describe.each(['postgres', 'api', 'file'] as const)('on an intact ledger, source %s', (source) => {
    it('verify: exit 0, every event counted, and the source named on stderr', async () => {
      const rows = await rowsOf(source);
      const run = await cli(['audit', 'verify', ...args(source)], env[source]());
      expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
      expect(run.stdout).toBe(`ok: ${rows.length} events checked; head seq ${rows.length} hash ${rows.at(-1)!.hash}\n`);
      const named = { postgres: `secrets-ledger: verifying ${describedDatabase()}`, api: `secrets-ledger: verifying ${pgService.url}`, file: `secrets-ledger: verifying ${sqliteFile}` }[source];
      expect(run.stderr).toContain(named);
    });

    it('export: every event of the log, in order, as NDJSON and as filtered CSV', async () => {
      const rows = await rowsOf(source);
      const ndjson = await cli(['audit', 'export', '--format', 'ndjson', ...args(source)], env[source]());
      expect(ndjson.status).toBe(0);
      const entries = ndjson.stdout.trim().split('\n').map((line) => JSON.parse(line));
      expect(entries.map((e) => ({ seq: e.seq, hash: e.hash }))).toEqual(rows);
      expect(ndjson.stdout).not.toContain('value-of-');

      const key = entries.find((e) => e.type === 'SecretUpdated')!.key as string;
      const csv = await cli(['audit', 'export', '--format', 'csv', '--key', key, ...args(source)], env[source]());
      expect(csv.status).toBe(0);
      const records = parse(csv.stdout, { columns: true }) as Record<string, string>[];
      expect(records.map((r) => [r.type, r.version])).toEqual([
        ['SecretAdded', '1'],
        ['SecretUpdated', '2'],
      ]);
      expect(records.map((r) => r.hash)).toEqual(entries.filter((e) => e.key === key).map((e) => e.hash));
    });
  });

  it('PostgreSQL and the API export the same bytes, in both formats', async () => {
    for (const format of ['ndjson', 'csv']) {
      const direct = await cli(['audit', 'export', '--format', format], env.postgres());
      const viaApi = await cli(['audit', 'export', '--format', format], env.api());
      expect(direct.status).toBe(0);
      expect(viaApi.stdout).toBe(direct.stdout);
      expect(direct.stdout.length).toBeGreaterThan(100);
    }
  });

  it('the API refuses a token without the auditor role (exit 5), and the CLI says so', async () => {
    const run = await cli(['audit', 'verify'], { SECRETS_URL: pgService.url, SECRETS_TOKEN: executor });
    expect(run.status).toBe(5);
    expect(run.stderr).toMatch(/403/);
    expect(run.stdout).toBe('');
  });

  it('an empty PostgreSQL database is reported, and stays empty: the CLI never migrates what it reads', async () => {
    const empty = await freshDatabase('audit-sources-empty');
    try {
      const run = await cli(['audit', 'verify'], { DATABASE_URL: empty.url });
      expect(run.status).not.toBe(0);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/events/);
      const client = new Client({ connectionString: empty.url });
      await client.connect();
      try {
        const tables = await client.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
        expect(tables.rows).toEqual([]);
      } finally {
        await client.end();
      }
    } finally {
      await empty.drop();
    }
  });

  it('a database or service that cannot be reached: exit 6, naming it without its credentials', async () => {
    // Port 1: nothing listens there.
    const database = await cli(['audit', 'verify'], { DATABASE_URL: `postgres://ledger:${PASSWORD}@127.0.0.1:1/secrets` });
    expect(database.status).toBe(6);
    expect(database.stderr).toMatch(/cannot open the PostgreSQL database postgres:\/\/127\.0\.0\.1:1\/secrets: .*ECONNREFUSED/);
    const service = await cli(['audit', 'export', '--format', 'csv'], { SECRETS_URL: 'http://127.0.0.1:1', SECRETS_TOKEN: auditor });
    expect(service.status).toBe(6);
    expect(service.stderr).toMatch(/cannot reach the service at http:\/\/127\.0\.0\.1:1/);
    expect(service.stdout).toBe('');
  });

  describe('settings that name more than one trail', () => {
    const settings = {
      DATABASE_URL: { source: 'postgres', env: () => env.postgres(), args: [] as string[] },
      SECRETS_URL: { source: 'api', env: () => env.api(), args: [] as string[] },
      '--db': { source: 'file', env: () => ({}), args: ['--db'] },
      SECRETS_DATA_DIR: { source: 'file', env: () => ({ SECRETS_DATA_DIR: join(sqliteFile, '..') }), args: [] as string[] },
    } as const;
    type Setting = keyof typeof settings;
    /** Every pair of settings naming different sources; SECRETS_DATA_DIR with DATABASE_URL is not one (see below). */
    const pairs: Array<[Setting, Setting]> = [];
    const names = Object.keys(settings) as Setting[];
    names.forEach((a, i) =>
      names.slice(i + 1).forEach((b) => {
        if (settings[a].source !== settings[b].source && !(a === 'DATABASE_URL' && b === 'SECRETS_DATA_DIR')) pairs.push([a, b]);
      }),
    );
    const combined = (pair: Setting[]) => ({
      env: Object.assign({}, ...pair.map((s) => settings[s].env())),
      args: pair.flatMap((s) => (s === '--db' ? ['--db', sqliteFile] : [])),
    });

    it.each(pairs)('%s with %s: refused (exit 2), naming both, nothing read', async (a, b) => {
      expect(pairs.length).toBe(4);
      const { env: both, args: flags } = combined([a, b]);
      for (const command of [['verify'], ['export', '--format', 'ndjson']]) {
        const run = await cli(['audit', ...command, ...flags], both);
        expect(run.status).toBe(2);
        expect(run.stdout).toBe('');
        expect(run.stderr).toContain(a);
        expect(run.stderr).toContain(b);
        expect(run.stderr).toMatch(/--source/);
        expect(run.stderr).not.toMatch(/verifying|exporting/);
      }
    });

    it.each(pairs)('%s with %s: --source picks either one', async (a, b) => {
      const { env: both, args: flags } = combined([a, b]);
      for (const chosen of [a, b]) {
        const { source } = settings[chosen];
        // --db goes with --source file only; the others choose by --source alone.
        const withoutDb = source === 'file' ? flags : [];
        const run = await cli(['audit', 'verify', '--source', source, ...withoutDb], both);
        expect({ chosen, status: run.status }).toEqual({ chosen, status: 0 });
        expect(run.stdout).toMatch(/^ok: \d+ events checked/);
        const head = (await rowsOf(source)).length;
        expect(run.stdout).toContain(`ok: ${head} events checked`);
      }
    });

    it('--db with --source postgres or api is refused', async () => {
      for (const source of ['postgres', 'api']) {
        const run = await cli(['audit', 'verify', '--source', source, '--db', sqliteFile], { ...env.postgres(), ...env.api() });
        expect(run.status).toBe(2);
        expect(run.stderr).toMatch(/--db/);
      }
    });
  });

  describe('after one row is edited past the guard triggers', () => {
    beforeAll(async () => {
      const client = new Client({ connectionString: database.url });
      await client.connect();
      try {
        await client.query('BEGIN');
        await client.query('ALTER TABLE events DISABLE TRIGGER events_refuse_update');
        // A trailing space: still the same JSON to a reader, no longer the hashed bytes.
        const edited = await client.query(`UPDATE events SET data = data || ' ' WHERE seq = $1`, [TAMPERED_SEQ]);
        expect(edited.rowCount).toBe(1);
        await client.query('ALTER TABLE events ENABLE TRIGGER events_refuse_update');
        await client.query('COMMIT');
      } finally {
        await client.end();
      }
      const db = new Database(sqliteFile);
      try {
        const trigger = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'events_refuse_update'").get() as { sql: string };
        db.exec('DROP TRIGGER events_refuse_update');
        expect(db.prepare(`UPDATE events SET data = data || ' ' WHERE seq = ?`).run(TAMPERED_SEQ).changes).toBe(1);
        db.exec(trigger.sql);
      } finally {
        db.close();
      }
    });

    it.each(['postgres', 'api', 'file'] as const)('verify through %s: exit 1, broken at that seq, and why', async (source) => {
      const rows = await rowsOf(source);
      for (const json of [false, true]) {
        const run = await cli(['audit', 'verify', ...args(source), ...(json ? ['--json'] : [])], env[source]());
        expect(run.status).toBe(1);
        if (json) {
          expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, brokenAt: TAMPERED_SEQ, checked: TAMPERED_SEQ, head: { seq: rows.length } });
        } else {
          expect(run.stdout).toMatch(new RegExp(`^BROKEN at seq ${TAMPERED_SEQ}: the hash of seq ${TAMPERED_SEQ} does not match its content \\(edited row\\)\\n\\(${TAMPERED_SEQ} events read; head seq ${rows.length}\\)`));
        }
      }
    });

    it('a secrets.db left in ./data is not read while DATABASE_URL is set: the broken PostgreSQL chain is reported', async () => {
      const cwd = join(work.dir, 'operator');
      mkdirSync(join(cwd, 'data'), { recursive: true });
      // An intact copy of an older SQLite ledger, as left behind by a move to PostgreSQL.
      const leftover = join(cwd, 'data', 'secrets.db');
      copyFileSync(sqliteFile, leftover);
      const db = new Database(leftover);
      const trigger = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'events_refuse_update'").get() as { sql: string };
      db.exec('DROP TRIGGER events_refuse_update');
      // Put seq 4 back as it was: the leftover verifies intact, so only reading PostgreSQL reports a break.
      db.prepare(`UPDATE events SET data = substr(data, 1, length(data) - 1) WHERE seq = ?`).run(TAMPERED_SEQ);
      db.exec(trigger.sql);
      db.close();
      expect(existsSync(leftover)).toBe(true);

      const run = await cli(['audit', 'verify'], env.postgres(), cwd);
      expect(run.status).toBe(1);
      expect(run.stdout).toMatch(new RegExp(`^BROKEN at seq ${TAMPERED_SEQ}: `));
      expect(run.stderr).toContain(`verifying ${describedDatabase()}`);
      expect(run.stderr).toContain(`not reading ${leftover}`);

      // The same with the data dir named: with DATABASE_URL set its secrets.db is not the ledger.
      const named = await cli(['audit', 'verify'], { ...env.postgres(), SECRETS_DATA_DIR: join(cwd, 'data') });
      expect(named.status).toBe(1);
      expect(named.stderr).toContain(`not reading ${leftover}`);

      const exported = await cli(['audit', 'export', '--format', 'ndjson'], env.postgres(), cwd);
      expect(exported.status).toBe(0);
      expect(exported.stdout.trim().split('\n')).toHaveLength((await pgRows()).length);

      // Control: the leftover is intact and shorter, so the checks above did tell them apart.
      const file = await cli(['audit', 'verify', '--source', 'file'], env.postgres(), cwd);
      expect(file.status).toBe(0);
      expect(file.stdout).toContain(`ok: ${fileRows().length} events checked`);
      expect(fileRows().length).not.toBe((await pgRows()).length);
    });
  });

  it('no token and no database password in anything the CLI printed (positive control: an issued token is found)', () => {
    const all = printed.join('\n');
    expect(printed.length).toBeGreaterThan(40);
    // Positive control: `tokens issue --json` printed the auditor token, and the search finds it there.
    expect(all).toContain(auditor);
    const withoutIssue = printed.filter((text) => !text.includes('"token"')).join('\n');
    expect(withoutIssue).toContain('secrets-ledger: verifying');
    for (const secret of [auditor, executor, ADMIN_TOKEN, PASSWORD]) expect(withoutIssue).not.toContain(secret);
  });
});
