import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { SecretsClient } from '../../src/client';
import { TokensService } from '../../src/auth/tokens.service';
import { Metrics } from '../../src/metrics/metrics';
import { expectEventually } from '../support/expect-eventually';
import { countRows, placesHolding, withRawDatabase } from '../support/raw-database';
import { TestApp, startTestApp, tempDataDir, testConfig } from '../support/test-app';

const DAY = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();

interface SecretExpiryCheck {
  status: string;
  warningDays: number;
  expiredCount: number;
  expired: { key: string; expiresAt: string }[];
  expiringCount: number;
  expiring: { key: string; expiresAt: string }[];
}

describe('secret expiry: metadata, readiness, metrics, and refusal on resolve', () => {
  const data = tempDataDir();
  const config = testConfig(data.dir);
  let t: TestApp;
  let executor: string;

  const add = (key: string, extra: object = {}) => t.request('/api/v1/secrets', { method: 'POST', json: { key, value: `value-of-${key.toLowerCase()}`, ...extra } });
  const meta = async (key: string) => (await t.request(`/api/v1/secrets/${key}`)).json();
  const expiryCheck = async (): Promise<SecretExpiryCheck> => {
    const res = await t.request('/health/ready', { token: null });
    expect(res.status).toBe(200);
    return (await res.json()).details.secretExpiry;
  };
  const gauge = async () =>
    Object.fromEntries((await t.app.get(Metrics).registry.getSingleMetric('secrets_ledger_secrets_expiry')!.get()).values.map((v) => [v.labels.state, v.value]));
  const resolve = (keys: string[]) => t.request('/api/v1/resolve', { method: 'POST', token: executor, json: { plugin: 'p', keys } });

  beforeAll(async () => {
    t = await startTestApp(config);
    executor = (await t.app.get(TokensService).issue({ name: 'runner', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
  });
  afterAll(async () => {
    await t.close();
    data.cleanup();
  });

  it.each([
    ['a word', 'tomorrow'],
    ['a date without a time', '2031-05-17'],
    ['a time without an offset', '2031-05-17T08:30:00'],
    ['a day the month does not have', '2031-02-30T08:30:00Z'],
    ['an hour past 23', '2031-05-17T24:00:00Z'],
    ['a number', 1_800_000_000_000],
    ['null on add', null],
  ])('%s: 400 problem+json naming expiresAt, without the input; nothing stored', async (_label, expiresAt) => {
    const events = await countRows(config, 'events');
    const res = await add('BADLY_EXPIRING', { expiresAt });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const text = await res.text();
    expect(JSON.parse(text).errors.map((e: { field: string }) => e.field)).toContain('expiresAt');
    if (typeof expiresAt === 'string') expect(text).not.toContain(expiresAt);
    expect(await countRows(config, 'events')).toBe(events);
  });

  it('is stored as the UTC instant it names, shown in metadata and history, and judged against the warning window', async () => {
    expect((await add('EXPIRED_TOKEN', { expiresAt: '2020-01-01T01:00:00+01:00' })).status).toBe(201);
    expect((await add('SOON_TOKEN', { expiresAt: inDays(2) })).status).toBe(201);
    expect((await add('LATER_TOKEN', { expiresAt: inDays(60) })).status).toBe(201);
    expect((await add('FOREVER_TOKEN')).status).toBe(201);
    expect(await meta('EXPIRED_TOKEN')).toMatchObject({ expiresAt: '2020-01-01T00:00:00.000Z', expiry: 'expired' });
    expect(await meta('SOON_TOKEN')).toMatchObject({ expiry: 'expiring' });
    const later = await meta('LATER_TOKEN');
    expect(later.expiresAt).toBeDefined();
    expect(later.expiry).toBeUndefined();
    expect(await meta('FOREVER_TOKEN')).not.toHaveProperty('expiresAt');
    const listed = (await (await t.request('/api/v1/secrets')).json()).items;
    expect(Object.fromEntries(listed.map((s: { key: string; expiry?: string }) => [s.key, s.expiry ?? null]))).toEqual({
      EXPIRED_TOKEN: 'expired',
      SOON_TOKEN: 'expiring',
      LATER_TOKEN: null,
      FOREVER_TOKEN: null,
    });
    const [added] = (await (await t.request('/api/v1/secrets/EXPIRED_TOKEN/history')).json()).items;
    expect(added).toMatchObject({ type: 'SecretAdded', expiresAt: '2020-01-01T00:00:00.000Z' });
  });

  it('readiness and the metric report the expired and the soon-to-expire secrets, and stay ready', async () => {
    const check = await expiryCheck();
    expect(check).toMatchObject({ status: 'up', warningDays: 14, expiredCount: 1, expiringCount: 1 });
    expect(check.expired.map((s) => s.key)).toEqual(['EXPIRED_TOKEN']);
    expect(check.expiring.map((s) => s.key)).toEqual(['SOON_TOKEN']);
    expect(await gauge()).toEqual({ expired: 1, expiring: 1 });
  });

  it('a secret that expires a moment from now is reported expired once that moment passes', async () => {
    expect((await add('MOMENT_TOKEN', { expiresAt: new Date(Date.now() + 1_500).toISOString() })).status).toBe(201);
    expect((await expiryCheck()).expired.map((s) => s.key)).not.toContain('MOMENT_TOKEN');
    await expectEventually(async () => expect((await expiryCheck()).expired.map((s) => s.key)).toEqual(['EXPIRED_TOKEN', 'MOMENT_TOKEN']), 10_000, 200);
    expect(await gauge()).toMatchObject({ expired: 2 });
  });

  it('an update sets, moves or clears the expiry; the same expiry again records nothing; bad input changes nothing', async () => {
    const version = (await meta('LATER_TOKEN')).version;
    expect((await t.request('/api/v1/secrets/LATER_TOKEN', { method: 'PATCH', json: { expiresAt: 'soon' } })).status).toBe(400);
    expect((await meta('LATER_TOKEN')).version).toBe(version);
    const moved = await t.request('/api/v1/secrets/LATER_TOKEN', { method: 'PATCH', json: { expiresAt: '2020-06-01T00:00:00Z' } });
    expect(await moved.json()).toMatchObject({ version: version + 1, expiresAt: '2020-06-01T00:00:00.000Z', expiry: 'expired' });
    expect((await t.request('/api/v1/secrets/LATER_TOKEN', { method: 'PATCH', json: { expiresAt: '2020-06-01T02:00:00+02:00' } })).status).toBe(200);
    expect((await meta('LATER_TOKEN')).version).toBe(version + 1);
    const cleared = await (await t.request('/api/v1/secrets/LATER_TOKEN', { method: 'PATCH', json: { expiresAt: null } })).json();
    expect(cleared.version).toBe(version + 2);
    expect(cleared).not.toHaveProperty('expiresAt');
    const history = (await (await t.request('/api/v1/secrets/LATER_TOKEN/history')).json()).items;
    expect(history.slice(-2).map((e: { expiresAt?: string | null; valueChanged: boolean }) => [e.expiresAt, e.valueChanged])).toEqual([
      ['2020-06-01T00:00:00.000Z', false],
      [null, false],
    ]);
  });

  it('without SECRETS_REFUSE_EXPIRED an expired secret still resolves', async () => {
    const res = await resolve(['EXPIRED_TOKEN']);
    expect(await res.json()).toEqual({ secrets: { EXPIRED_TOKEN: 'value-of-expired_token' }, missing: [], unreadable: [], revision: expect.any(Number) });
  });

  it('with SECRETS_REFUSE_EXPIRED=true a resolve lists expired keys under `expired`, never their values; nothing is deleted', async () => {
    t = await t.restart({ expiry: { ...config.expiry, refuseExpired: true } });
    executor = (await t.app.get(TokensService).issue({ name: 'runner-2', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
    const res = await resolve(['EXPIRED_TOKEN', 'SOON_TOKEN', 'NOT_STORED']);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      secrets: { SOON_TOKEN: 'value-of-soon_token' },
      missing: ['NOT_STORED'],
      unreadable: [],
      expired: ['EXPIRED_TOKEN'],
      revision: expect.any(Number),
    });
    expect(text).not.toContain('value-of-expired_token');
    const entry = await withRawDatabase(config, (db) => db.get<{ data: string }>("SELECT data FROM events WHERE type = 'SecretsResolved' ORDER BY seq DESC LIMIT 1"));
    expect(JSON.parse(entry!.data)).toMatchObject({ keys: [{ key: 'SOON_TOKEN', version: 1 }], missing: ['NOT_STORED'], expired: ['EXPIRED_TOKEN'] });
    // Expiry deletes nothing: the secret, its value and its metadata are all still there.
    expect((await t.request('/api/v1/secrets/EXPIRED_TOKEN')).status).toBe(200);
    expect(await withRawDatabase(config, (db) => db.get("SELECT 1 AS one FROM data_keys k JOIN secrets s ON s.value_event_id = k.event_id WHERE s.key = 'EXPIRED_TOKEN'"))).toBeDefined();
    // And no value reached the log in plaintext; the search would find the key name, which is stored.
    expect(await placesHolding(config, 'value-of-expired_token')).toEqual([]);
    expect((await placesHolding(config, 'EXPIRED_TOKEN')).length).toBeGreaterThan(0);
  });

  it('the SDK treats a key refused as expired like a missing one: no stored value, the environment\'s if it has one', async () => {
    const manifest = { name: '@acme/expiry-check', secrets: ['EXPIRED_TOKEN', 'SOON_TOKEN'] };
    for (const [env, expected] of [
      [{}, { EXPIRED_TOKEN: undefined, SOON_TOKEN: 'value-of-soon_token' }],
      [{ EXPIRED_TOKEN: 'from-the-environment' }, { EXPIRED_TOKEN: 'from-the-environment', SOON_TOKEN: 'value-of-soon_token' }],
    ] as const) {
      const client = await SecretsClient.connect({ url: t.baseUrl, token: executor, env, log: () => undefined });
      try {
        const ctx = await client.hydrate(manifest);
        expect({ EXPIRED_TOKEN: ctx.secrets.get('EXPIRED_TOKEN'), SOON_TOKEN: ctx.secrets.get('SOON_TOKEN') }).toEqual(expected);
        expect(ctx.secrets.source('EXPIRED_TOKEN')).toBe('EXPIRED_TOKEN' in env ? 'env' : undefined);
      } finally {
        await client.close();
      }
    }
  });

  it('audit verify names a read-model row whose expiry disagrees with the log (an expiry edited away to slip past refusal)', async () => {
    const stored = await withRawDatabase(config, (db) => db.get<{ expires_at: string }>("SELECT expires_at FROM secrets WHERE key = 'EXPIRED_TOKEN'"));
    expect((await (await t.request('/api/v1/audit/verify')).json()).ok).toBe(true);
    await withRawDatabase(config, (db) => db.run("UPDATE secrets SET expires_at = NULL WHERE key = 'EXPIRED_TOKEN'"));
    try {
      expect((await (await t.request('/api/v1/audit/verify')).json()).disagreements).toEqual([
        { table: 'secrets', key: 'EXPIRED_TOKEN', field: 'expiresAt', reason: `the read model says undefined; the log says "${stored!.expires_at}"` },
      ]);
    } finally {
      await withRawDatabase(config, (db) => db.run("UPDATE secrets SET expires_at = ? WHERE key = 'EXPIRED_TOKEN'", [stored!.expires_at]));
    }
    expect((await (await t.request('/api/v1/audit/verify')).json()).ok).toBe(true);
  });
});
