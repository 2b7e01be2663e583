import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { POSTGRES_LIMIT_DEFAULTS, PostgresLimits } from '../../src/config/configuration';
import { ADVISORY_LOCKS } from '../../src/storage/postgres/advisory-locks';
import { POSTGRES_TYPES } from '../../src/storage/postgres/open-postgres';
import { expectEventually } from '../support/expect-eventually';
import { FreshDatabase, freshDatabase, ThrowawayCluster } from '../support/postgres';
import { TestApp, startTestApp, tempDataDir, testConfig } from '../support/test-app';

/**
 * SPEC §3 and §7 on PostgreSQL: a wait on the database ends at its limit as a 503 with
 * Retry-After, readiness says why, and nothing a client was told failed is ever committed.
 */
const LIMITS: PostgresLimits = { ...POSTGRES_LIMIT_DEFAULTS, lockTimeoutMs: 1_000, statementTimeoutMs: 3_000, acquireTimeoutMs: 2_000, connectTimeoutMs: 1_000 };
/** The bound on an answer: the limit, twice at most (a request queued behind a waiting batch shares its refusal), and room for a loaded 2-core machine. */
const ANSWERED_WITHIN_MS = 2 * LIMITS.lockTimeoutMs + 3_000;

type Answer = { status: number; retryAfter: string | null; contentType: string | null; ms: number; body: Record<string, unknown> };

async function timedCall(app: TestApp, path: string, init: Parameters<TestApp['request']>[1] = {}): Promise<Answer> {
  const started = Date.now();
  const res = await app.request(path, init);
  const text = await res.text();
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    contentType: res.headers.get('content-type'),
    ms: Date.now() - started,
    body: res.headers.get('content-type')?.includes('json') && text ? (JSON.parse(text) as Record<string, unknown>) : { text },
  };
}

function expectUnavailable(answer: Answer): void {
  expect({ status: answer.status, retryAfter: answer.retryAfter, contentType: answer.contentType }).toEqual({
    status: 503,
    retryAfter: expect.stringMatching(/^\d+$/),
    contentType: expect.stringMatching(/^application\/problem\+json/),
  });
}

describe('a session holding the log append lock, with two instances on one database', () => {
  const dirs = [tempDataDir(), tempDataDir()];
  const masterKeys = [{ kid: 'pg-faults', key: randomBytes(32) }];
  let database: FreshDatabase;
  let apps: TestApp[] = [];
  let sql: Client;
  let executor: string;

  const count = async (query: string) => Number((await sql.query<{ n: number }>(query)).rows[0].n);
  const ledger = async () => ({
    tokens: await count('SELECT COUNT(*) AS n FROM tokens'),
    secrets: await count('SELECT COUNT(*) AS n FROM secrets'),
    events: await count("SELECT COUNT(*) AS n FROM events WHERE type <> 'AccessDenied'"),
    resolved: await count("SELECT COUNT(*) AS n FROM events WHERE type = 'SecretsResolved'"),
    issued: await count("SELECT COUNT(*) AS n FROM events WHERE type = 'TokenIssued'"),
  });

  beforeAll(async () => {
    database = await freshDatabase('append-lock');
    for (const dir of dirs) apps.push(await startTestApp(testConfig(dir.dir, { databaseUrl: database.url, masterKeys, postgres: LIMITS })));
    executor = (await apps[0].app.get(TokensService).issue({ name: 'runner', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
    expect((await apps[0].request('/api/v1/secrets', { method: 'POST', json: { key: 'HELD_KEY', value: 'held-value-1' } })).status).toBe(201);
    sql = new Client({ connectionString: database.url, types: POSTGRES_TYPES });
    await sql.connect();
  }, 60_000);

  afterAll(async () => {
    await sql?.end();
    for (const app of apps) await app.stop();
    await database?.drop();
    dirs.forEach((dir) => dir.cleanup());
  });

  it('writes, resolves and token issues through both answer 503 with Retry-After within the limit, readiness names the holder, reads still answer, and after release nothing refused is in the log', async () => {
    const before = await ledger();
    const holder = new Client({ connectionString: database.url, application_name: 'outside psql' });
    await holder.connect();
    let released = false;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.logAppend]);
      const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;

      // Held past the limit: readiness on both says so before any write has tried.
      await new Promise((resolve) => setTimeout(resolve, LIMITS.lockTimeoutMs + 200));
      for (const app of apps) {
        const ready = await timedCall(app, '/health/ready', { token: null });
        expect(ready.status).toBe(503);
        expect(ready.retryAfter).toMatch(/^\d+$/);
        expect(ready.body).toMatchObject({ error: { storage: { status: 'down', pid: holderPid, application: 'outside psql', reason: expect.stringMatching(/append lock/) } } });
      }

      const attempts = apps.flatMap((app, i) => [
        ...Array.from({ length: 4 }, (_, n) => () => timedCall(app, '/api/v1/secrets', { method: 'POST', json: { key: `REFUSED_${i}_${n}`, value: `refused-${n}` } })),
        () => timedCall(app, '/api/v1/secrets/HELD_KEY', { method: 'PATCH', json: { value: `changed-through-${i}` } }),
        ...Array.from({ length: 3 }, (_, n) => () => timedCall(app, '/api/v1/tokens', { method: 'POST', json: { name: `refused-${i}-${n}`, role: 'auditor' } })),
        ...Array.from({ length: 5 }, () => () => timedCall(app, '/api/v1/resolve', { method: 'POST', token: executor, json: { plugin: 'p', keys: ['HELD_KEY'] } })),
      ]);
      const [answers, denied, read] = await Promise.all([
        Promise.all(attempts.map((attempt) => attempt())),
        // A refusal stays a refusal: its record waits for the lock, the 403 does not wait longer.
        timedCall(apps[1], '/api/v1/secrets', { token: executor }),
        timedCall(apps[0], '/api/v1/secrets/HELD_KEY'),
      ]);
      for (const answer of answers) {
        expectUnavailable(answer);
        expect(answer.body).toMatchObject({ type: 'urn:secrets-ledger:problem:storage-unavailable', detail: expect.stringMatching(/append lock/) });
        expect(answer.ms).toBeLessThan(ANSWERED_WITHIN_MS);
      }
      expect({ status: denied.status, late: denied.ms >= ANSWERED_WITHIN_MS }).toEqual({ status: 403, late: false });
      expect(read.status).toBe(200);

      await holder.query('COMMIT');
      released = true;
      // The refused work had its transactions rolled back on the server: nothing of it appears, now or later.
      await new Promise((resolve) => setTimeout(resolve, 2 * LIMITS.lockTimeoutMs));
      expect(await ledger()).toEqual(before);
      expect((await sql.query("SELECT key FROM secrets WHERE key LIKE 'REFUSED_%'")).rows).toEqual([]);
    } finally {
      if (!released) await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }

    // Ready again without a restart, and writes go through both.
    for (const [i, app] of apps.entries()) {
      await expectEventually(async () => expect((await timedCall(app, '/health/ready', { token: null })).status).toBe(200), 10_000, 200);
      expect((await app.request('/api/v1/secrets', { method: 'POST', json: { key: `AFTER_${i}`, value: 'after' } })).status).toBe(201);
    }
  }, 60_000);
});

describe('PostgreSQL stopped (a throwaway cluster of this test) and started again', () => {
  const dir = tempDataDir();
  let cluster: ThrowawayCluster;
  let app: TestApp;
  let executor: string;

  beforeAll(async () => {
    cluster = await ThrowawayCluster.own();
    app = await startTestApp(testConfig(dir.dir, { databaseUrl: cluster.url, postgres: LIMITS }));
    executor = (await app.app.get(TokensService).issue({ name: 'runner', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
    expect((await app.request('/api/v1/secrets', { method: 'POST', json: { key: 'DOWN_KEY', value: 'down-value-1' } })).status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await cluster?.stop();
    dir.cleanup();
  }, 60_000);

  /** Every kind of route: reads, writes, resolve, the ones that only authenticate, a refusal, an unknown token. */
  const routes = (): Array<[string, string, Parameters<TestApp['request']>[1]]> => [
    ['a list', '/api/v1/secrets', {}],
    ['a read', '/api/v1/secrets/DOWN_KEY', {}],
    ['a history', '/api/v1/secrets/DOWN_KEY/history', {}],
    ['a create', '/api/v1/secrets', { method: 'POST', json: { key: 'WHILE_DOWN', value: 'while-down' } }],
    ['an update', '/api/v1/secrets/DOWN_KEY', { method: 'PATCH', json: { value: 'changed-while-down' } }],
    ['a delete', '/api/v1/secrets/DOWN_KEY', { method: 'DELETE' }],
    ['a resolve', '/api/v1/resolve', { method: 'POST', token: executor, json: { plugin: 'p', keys: ['DOWN_KEY'] } }],
    ['a token issue', '/api/v1/tokens', { method: 'POST', json: { name: 'while-down', role: 'auditor' } }],
    ['the token list', '/api/v1/tokens', {}],
    ['the audit trail', '/api/v1/audit', {}],
    ['the audit head', '/api/v1/audit/head', {}],
    ['the audit export', '/api/v1/audit/export?format=ndjson', {}],
    ['the chain verification', '/api/v1/audit/verify', {}],
    ['whoami (authentication only)', '/api/v1/whoami', {}],
    ['a route the role may not use', '/api/v1/secrets', { token: executor }],
    ['an unknown token', '/api/v1/whoami', { token: 'slt_unknown-token-0123456789abcdefghijklmnop' }],
  ];

  it('every route answers 503 problem+json with Retry-After, readiness says the database is unreachable, and service resumes once it is started again', async () => {
    cluster.halt();
    try {
      for (const [what, path, init] of routes()) {
        const answer = await timedCall(app, path, init);
        expect({ what, status: answer.status, retryAfter: answer.retryAfter, contentType: answer.contentType }).toEqual({
          what,
          status: 503,
          retryAfter: expect.stringMatching(/^\d+$/),
          contentType: expect.stringMatching(/^application\/problem\+json/),
        });
        expect(answer.body).toMatchObject({ type: 'urn:secrets-ledger:problem:storage-unavailable', status: 503 });
        expect(answer.ms).toBeLessThan(LIMITS.acquireTimeoutMs + 3_000);
      }
      const ready = await timedCall(app, '/health/ready', { token: null });
      expect({ status: ready.status, retryAfter: ready.retryAfter }).toEqual({ status: 503, retryAfter: expect.stringMatching(/^\d+$/) });
      expect(ready.body).toMatchObject({ error: { database: { status: 'down', reason: expect.stringMatching(/PostgreSQL/) } } });
    } finally {
      cluster.resume();
    }

    // The same process, no restart: ready again, and every route answers as it did before.
    await expectEventually(async () => expect((await timedCall(app, '/health/ready', { token: null })).status).toBe(200), 20_000, 250);
    expect((await app.request('/api/v1/secrets', { method: 'POST', json: { key: 'AFTER_RESTART', value: 'after' } })).status).toBe(201);
    const resolved = await timedCall(app, '/api/v1/resolve', { method: 'POST', token: executor, json: { plugin: 'p', keys: ['DOWN_KEY'] } });
    expect(resolved).toMatchObject({ status: 200, body: { secrets: { DOWN_KEY: 'down-value-1' } } });
    expect((await timedCall(app, '/api/v1/secrets/WHILE_DOWN')).status).toBe(404);
  }, 90_000);
});
