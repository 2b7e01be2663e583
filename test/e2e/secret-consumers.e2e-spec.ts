import { SYSTEM_ACTOR } from '../../src/auth/principal';
import type { SecretConsumer as Consumer } from '../../src/contract/api-types';
import { TokensService } from '../../src/auth/tokens.service';
import { Metrics } from '../../src/metrics/metrics';
import { withRawDatabase } from '../support/raw-database';
import { useTestApp } from '../support/test-app';

const PLUGIN = '@voxel51/annotation';
const KEY = 'CONSUMED_API_TOKEN';

describe('GET /api/v1/secrets/{key}/consumers: who holds which version', () => {
  const t = useTestApp();
  const executors: Record<'a' | 'b', { id: string; token: string }> = {} as never;
  let auditor: string;

  const resolve = (token: string, keys = [KEY], plugin = PLUGIN) => t.request('/api/v1/resolve', { method: 'POST', token, json: { plugin, keys } });
  const consumers = async (key = KEY, token?: string): Promise<Consumer[]> => {
    const res = await t.request(`/api/v1/secrets/${key}/consumers`, token ? { token } : {});
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: Consumer[] }).items;
  };
  /** Each executor's row: the version it holds and whether that is current. */
  const holdings = async (key = KEY) =>
    Object.fromEntries((await consumers(key)).map((c) => [c.tokenName, { version: c.version, current: c.current, stale: c.stale }]));
  const change = (json: object) => t.request(`/api/v1/secrets/${KEY}`, { method: 'PATCH', json });
  const staleGauge = async () => (await t.app.get(Metrics).registry.getSingleMetric('secrets_ledger_stale_consumers')!.get()).values[0]?.value;

  /** The service's clock (only `Date`: timers keep running) moved `ms` ahead while `work` runs. */
  async function later<T>(ms: number, work: () => Promise<T>): Promise<T> {
    jest.useFakeTimers({ doNotFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'nextTick', 'queueMicrotask', 'hrtime', 'performance'] });
    jest.setSystemTime(Date.now() + ms);
    try {
      return await work();
    } finally {
      jest.useRealTimers();
    }
  }

  beforeAll(async () => {
    const tokens = t.app.get(TokensService);
    for (const name of ['a', 'b'] as const) {
      const issued = await tokens.issue({ name, role: 'executor', plugins: null }, SYSTEM_ACTOR);
      executors[name] = { id: issued.id, token: issued.token };
    }
    auditor = (await tokens.issue({ name: 'reviewer', role: 'auditor', plugins: null }, SYSTEM_ACTOR)).token;
    expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key: KEY, value: 'consumed-v1' } })).status).toBe(201);
  });

  it('two executors resolve; a change; until they refresh they hold the old version, not current; after, the new one', async () => {
    expect(await consumers()).toEqual([]);
    for (const { token } of Object.values(executors)) expect((await resolve(token)).status).toBe(200);
    expect(await holdings()).toEqual({ a: { version: 1, current: true, stale: false }, b: { version: 1, current: true, stale: false } });
    const [first] = await consumers();
    expect(first).toMatchObject({ tokenId: expect.stringMatching(/^tok_/), plugin: PLUGIN });
    expect(Date.parse(first.resolvedAt)).not.toBeNaN();

    expect((await change({ value: 'consumed-v2' })).status).toBe(200);
    expect(await holdings()).toEqual({ a: { version: 1, current: false, stale: false }, b: { version: 1, current: false, stale: false } });

    expect((await resolve(executors.a.token)).status).toBe(200);
    expect(await holdings()).toEqual({ a: { version: 2, current: true, stale: false }, b: { version: 1, current: false, stale: false } });
    expect((await resolve(executors.b.token)).status).toBe(200);
    expect(await holdings()).toEqual({ a: { version: 2, current: true, stale: false }, b: { version: 2, current: true, stale: false } });
  });

  it('a description-only change leaves every holder current: the value they hold is still the current one', async () => {
    expect((await change({ description: 'rotated quarterly' })).status).toBe(200);
    expect(await holdings()).toEqual({ a: { version: 2, current: true, stale: false }, b: { version: 2, current: true, stale: false } });
  });

  it('a holder of an old version is stale more than a minute after the change, in the list and the metric', async () => {
    expect((await change({ value: 'consumed-v4' })).status).toBe(200);
    expect((await resolve(executors.a.token)).status).toBe(200);
    expect(await staleGauge()).toBe(0);
    const { listed, gauge } = await later(61_000, async () => ({ listed: await holdings(), gauge: await staleGauge() }));
    expect(listed).toEqual({ a: { version: 4, current: true, stale: false }, b: { version: 2, current: false, stale: true } });
    expect(gauge).toBe(1);
    // Not before the minute is over.
    expect(await later(50_000, holdings)).toMatchObject({ b: { stale: false } });
  });

  it('a revoked token is listed but never waited for; a removed secret has nobody current and nobody stale', async () => {
    await t.app.get(TokensService).revoke(executors.b.id, SYSTEM_ACTOR);
    expect(await later(61_000, async () => ({ listed: await holdings(), gauge: await staleGauge() }))).toEqual({
      listed: { a: { version: 4, current: true, stale: false }, b: { version: 2, current: false, stale: false } },
      gauge: 0,
    });
    expect((await t.request(`/api/v1/secrets/${KEY}`, { method: 'DELETE' })).status).toBe(204);
    expect(await later(61_000, holdings)).toEqual({ a: { version: 4, current: false, stale: false }, b: { version: 2, current: false, stale: false } });
  });

  it('one row per token and plugin, however many resolves share a commit', async () => {
    const key = 'CONSUMED_IN_A_BATCH';
    await t.request('/api/v1/secrets', { method: 'POST', json: { key, value: 'batch-v1' } });
    const answers = await Promise.all([
      ...Array.from({ length: 20 }, () => resolve(executors.a.token, [key])),
      ...Array.from({ length: 5 }, () => resolve(executors.a.token, [key], 'other-plugin')),
    ]);
    expect(answers.map((res) => res.status)).toEqual(answers.map(() => 200));
    expect((await consumers(key)).map((c) => `${c.tokenName} ${c.plugin} ${c.version}`).sort()).toEqual([`a ${PLUGIN} 1`, 'a other-plugin 1']);
    // The last read stands: its entry is the newest SecretsResolved naming the key for that plugin.
    const newest = await withRawDatabase(t.config, (db) =>
      db.get<{ at: string }>("SELECT e.at FROM events e JOIN event_keys k ON k.seq = e.seq WHERE k.key = ? AND e.type = 'SecretsResolved' ORDER BY e.seq DESC LIMIT 1", [key]),
    );
    expect((await consumers(key)).map((c) => c.resolvedAt)).toContain(newest?.at);
  });

  it('auditors may read it; a key never stored is 404; a key that is not a key is 400', async () => {
    expect((await consumers(KEY, auditor)).length).toBe(2);
    expect((await t.request('/api/v1/secrets/NEVER_STORED/consumers')).status).toBe(404);
    expect((await t.request('/api/v1/secrets/not-a-key/consumers')).status).toBe(400);
  });
});
