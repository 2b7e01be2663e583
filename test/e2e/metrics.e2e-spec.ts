import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import type { Database } from 'better-sqlite3';
import { SQLITE } from '../../src/storage/database.module';
import { openDatabase } from '../support/data-dir';
import { expectEventually } from '../support/expect-eventually';
import { PrivateNatsServer, freePort, uniqueKey } from '../support/nats';
import { ADMIN_TOKEN, TestApp, startTestApp, tempDataDir, testConfig } from '../support/test-app';

/** The sum of a metric's samples over all its label sets (a histogram: name it `_count`). */
function total(scrape: string, name: string, labels = ''): number {
  return scrape
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => line.includes(labels))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** The documented metrics (docs/OPERATING.md, "Health, readiness and metrics") and how each shows that it moved. */
const COUNTERS = [
  'secrets_ledger_http_requests_total',
  'secrets_ledger_http_request_duration_seconds_count',
  'secrets_ledger_resolves_total',
  'secrets_ledger_writer_batch_jobs_count',
  'secrets_ledger_writer_batch_duration_seconds_count',
  'secrets_ledger_notifications_published_total',
  'secrets_ledger_notification_delay_seconds_count',
  'secrets_ledger_relay_position_seq',
  'secrets_ledger_audit_chain_verified_seq',
];

describe('Prometheus metrics on their own listener', () => {
  const data = tempDataDir();
  let nats: PrivateNatsServer;
  let t: TestApp;
  let metricsUrl: string;
  const scrape = async () => {
    const response = await fetch(metricsUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text();
  };

  beforeAll(async () => {
    // Our own NATS: the test stops it to see the notification lag grow.
    nats = await PrivateNatsServer.start();
    const port = await freePort();
    const config = testConfig(data.dir, { nats: { url: nats.url }, metricsPort: port });
    // A low bound on failed authentications, so the scenario can meet a 429.
    t = await startTestApp({ ...config, http: { ...config.http, authFailuresPerMinute: 3 } });
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
  });
  afterAll(async () => {
    await t.close();
    await nats.dispose();
    data.cleanup();
  });

  it('every documented metric moves during a scenario, and no value, key name or token is in a scrape', async () => {
    const key = uniqueKey('METRICS_API_TOKEN');
    const values = ['metrics-value-one-a8c2e', 'metrics-value-two-73bd1'];
    const issue = (role: 'executor' | 'auditor') => t.app.get(TokensService).issue({ name: `metrics-${role}`, role, plugins: null }, SYSTEM_ACTOR);
    const executor = (await issue('executor')).token;
    const auditor = (await issue('auditor')).token;
    const unknown = 'slt_metrics-unknown-token-000000000000000000000';
    const before = await scrape();

    expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key, value: values[0] } })).status).toBe(201);
    expect((await t.request(`/api/v1/secrets/${key}`, { method: 'PATCH', json: { value: values[1] } })).status).toBe(200);
    expect((await t.request(`/api/v1/secrets/${key}`)).status).toBe(200);
    expect((await t.request('/api/v1/resolve', { method: 'POST', token: executor, json: { plugin: '@acme/metrics', keys: [key] } })).status).toBe(200);
    expect((await t.request('/api/v1/resolve', { method: 'POST', token: auditor, json: { plugin: '@acme/metrics', keys: [key] } })).status).toBe(403);
    expect((await t.request('/api/v1/secrets', { token: unknown })).status).toBe(401);
    expect((await t.request('/health/ready', { token: null })).status).toBe(200);
    // A path no route matches still names the key: it must be counted without its URL.
    expect((await t.request(`/api/v1/no-such-route/${key}`)).status).toBe(404);

    const after = await expectEventually(async () => {
      const text = await scrape();
      expect(total(text, 'secrets_ledger_notifications_published_total')).toBeGreaterThanOrEqual(total(before, 'secrets_ledger_notifications_published_total') + 2);
      return text;
    }, 15_000);
    for (const name of COUNTERS) {
      expect({ name, moved: total(after, name) > total(before, name) }).toEqual({ name, moved: true });
    }
    expect(total(after, 'secrets_ledger_refused_requests_total', 'reason="unauthenticated"')).toBe(total(before, 'secrets_ledger_refused_requests_total', 'reason="unauthenticated"') + 1);
    expect(total(after, 'secrets_ledger_refused_requests_total', 'reason="forbidden"')).toBe(total(before, 'secrets_ledger_refused_requests_total', 'reason="forbidden"') + 1);
    expect(total(after, 'secrets_ledger_resolves_total', 'outcome="refused"')).toBe(1);
    expect(total(after, 'secrets_ledger_http_requests_total', 'route="/api/v1/secrets/:key",status="200"')).toBe(2);
    expect(total(after, 'secrets_ledger_audit_chain_ok')).toBe(1);
    // No commit failed: the counter is there, at zero (the writer's failure path is tested in
    // sqlite-storage.spec.ts and the disk-full test).
    expect(after).toMatch(/^secrets_ledger_rate_limited_requests_total 0$/m);
    expect(after).toMatch(/^secrets_ledger_writer_failed_batches_total 0$/m);

    // Failed authentications past the per-address bound are 429s, and counted.
    const statuses: number[] = [];
    for (let i = 0; i < 6 && !statuses.includes(429); i++) statuses.push((await t.request('/api/v1/secrets', { token: unknown })).status);
    expect(statuses).toContain(429);
    expect(total(await scrape(), 'secrets_ledger_rate_limited_requests_total')).toBe(statuses.filter((status) => status === 429).length);

    // The lag gauge: it grows while NATS is away and returns to 0 once the relay catches up.
    await nats.stop();
    expect((await t.request(`/api/v1/secrets/${key}`, { method: 'PATCH', json: { description: 'during the outage' } })).status).toBe(200);
    await expectEventually(async () => expect(total(await scrape(), 'secrets_ledger_notification_lag_events')).toBeGreaterThanOrEqual(1));
    await nats.resume();
    const caughtUp = await expectEventually(async () => {
      const text = await scrape();
      expect(total(text, 'secrets_ledger_notification_lag_events')).toBe(0);
      return text;
    }, 20_000);

    const secrets = [...values, key, executor, auditor, unknown, ADMIN_TOKEN];
    const hits = (text: string, needles: string[]) => needles.filter((needle) => text.includes(needle));
    // Control: the search finds what labels do carry, so an empty result means something.
    expect(hits(after, ['route="/api/v1/secrets/:key"', 'status="401"', 'route="unmatched",status="404"'])).toHaveLength(3);
    for (const text of [before, after, caughtUp]) expect(hits(text, secrets)).toEqual([]);

    // A commit the disk refuses (SQLite's page limit set to what the file holds: SQLITE_FULL,
    // which rolls the batch back): a 503, and a failed batch counted. Then room again.
    const db = t.app.get<Database>(SQLITE);
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true })}`);
    const full = await t.request(`/api/v1/secrets/${key}`, { method: 'PATCH', json: { value: 'x'.repeat(60_000) } });
    db.pragma('max_page_count = 1073741823');
    expect(full.status).toBe(503);
    expect(total(await scrape(), 'secrets_ledger_writer_failed_batches_total')).toBeGreaterThanOrEqual(1);

    // Last, as it breaks the log for good: a row appended behind the service's back, with a hash
    // that chains to nothing. The next readiness probe verifies it, and the gauge drops to 0.
    const other = openDatabase(t.config.databasePath);
    try {
      const head = other.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string };
      other.prepare('INSERT INTO events (seq, id, stream, version, type, data, actor, at, prev_hash, hash) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?)').run(
        head.seq + 1, 'forged-row', 'forged', 'SecretAdded', '{}', '{}', new Date().toISOString(), head.hash, 'not-a-hash',
      );
    } finally {
      other.close();
    }
    expect((await t.request('/health/ready', { token: null })).status).toBe(503);
    expect(total(await scrape(), 'secrets_ledger_audit_chain_ok')).toBe(0);
  });

  it('serves /metrics only; other paths are 404', async () => {
    const response = await fetch(metricsUrl.replace('/metrics', '/api/v1/secrets'));
    expect(response.status).toBe(404);
  });
});
