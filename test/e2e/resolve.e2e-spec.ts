import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { ResolveService } from '../../src/resolve/resolve.service';
import { countRows, placesHolding, withRawDatabase } from '../support/raw-database';
import { TestApp, startTestApp, tempDataDir, testConfig } from '../support/test-app';

describe('POST /api/v1/resolve', () => {
  const data = tempDataDir();
  const config = testConfig(data.dir);
  let t: TestApp;
  let executor: string;
  let limited: string;

  beforeAll(async () => {
    t = await startTestApp(config);
    const tokens = t.app.get(TokensService);
    executor = (await tokens.issue({ name: 'runner', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
    limited = (await tokens.issue({ name: 'cvat-runner', role: 'executor', plugins: ['@voxel51/annotation'] }, SYSTEM_ACTOR)).token;
    for (const [key, value] of [['CVAT_URL', 'https://cvat.example/resolve-test'], ['CVAT_PASSWORD', 'resolve-test-pw-51c0']]) {
      await t.request('/api/v1/secrets', { method: 'POST', json: { key, value } });
    }
  });
  afterAll(async () => {
    await t.close();
    data.cleanup();
  });

  const resolve = (token: string, json: unknown) => t.request('/api/v1/resolve', { method: 'POST', token, json });

  const resolvedEvents = () =>
    withRawDatabase(config, (db) => db.all<{ data: string; actor: string }>("SELECT data, actor FROM events WHERE type = 'SecretsResolved' ORDER BY seq"));

  it('returns declared values, names the missing ones, and records the read without values', async () => {
    const res = await resolve(executor, { plugin: '@voxel51/annotation', keys: ['CVAT_URL', 'CVAT_PASSWORD', 'NOT_STORED'] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      secrets: { CVAT_URL: 'https://cvat.example/resolve-test', CVAT_PASSWORD: 'resolve-test-pw-51c0' },
      missing: ['NOT_STORED'],
      unreadable: [],
      revision: 2,
    });
    const [event] = (await resolvedEvents()).slice(-1);
    expect(JSON.parse(event.data)).toEqual({
      plugin: '@voxel51/annotation',
      keys: [
        { key: 'CVAT_URL', version: 1 },
        { key: 'CVAT_PASSWORD', version: 1 },
      ],
      missing: ['NOT_STORED'],
      revision: 2,
    });
    expect(JSON.parse(event.actor)).toMatchObject({ name: 'runner', role: 'executor' });
    expect(await placesHolding(config, 'resolve-test-pw-51c0')).toEqual([]);
    // The search would find it if it were there: the key name is stored in plaintext.
    expect((await placesHolding(config, 'CVAT_PASSWORD')).length).toBeGreaterThan(0);
  });

  const resolvedEntries = async () => (await resolvedEvents()).map((event) => ({ ...JSON.parse(event.data), actor: JSON.parse(event.actor).name }));
  const deliveries = async () => (await resolvedEntries()).reduce((sum, entry) => sum + (entry.deliveries ?? 1), 0);

  it('records every one of many concurrent resolves over HTTP', async () => {
    const before = await deliveries();
    const responses = await Promise.all(Array.from({ length: 40 }, () => resolve(executor, { plugin: 'p', keys: ['CVAT_URL'] })));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(await deliveries()).toBe(before + 40);
  });

  it('identical deliveries that share a write share one entry, which counts them; different ones do not', async () => {
    const service = t.app.get(ResolveService);
    const tokens = t.app.get(TokensService);
    const runner = (await tokens.authenticate(executor))!;
    const cvatRunner = (await tokens.authenticate(limited))!;
    const entriesBefore = (await resolvedEvents()).length;
    // Called in one turn, as requests arriving together are: they wait for the same write.
    await Promise.all([
      ...Array.from({ length: 40 }, () => service.resolve(runner, { plugin: 'p', keys: ['CVAT_URL'] })),
      ...Array.from({ length: 5 }, () => service.resolve(cvatRunner, { plugin: '@voxel51/annotation', keys: ['CVAT_URL', 'NOT_STORED'] })),
      service.resolve(runner, { plugin: 'p', keys: ['CVAT_PASSWORD'] }),
    ]);
    const entries = (await resolvedEntries()).slice(entriesBefore);
    // Each entry is exactly one of the three deliveries, and the counts add up to what was sent.
    // How many writes they took depends on the engine (PostgreSQL's reads are asynchronous, so a
    // burst may straddle two writes); sharing is what makes them fewer than the resolves.
    const shapes = [
      { actor: 'runner', plugin: 'p', keys: [{ key: 'CVAT_URL', version: 1 }], missing: [], revision: 2 },
      { actor: 'runner', plugin: 'p', keys: [{ key: 'CVAT_PASSWORD', version: 1 }], missing: [], revision: 2 },
      { actor: 'cvat-runner', plugin: '@voxel51/annotation', keys: [{ key: 'CVAT_URL', version: 1 }], missing: ['NOT_STORED'], revision: 2 },
    ];
    const counted = shapes.map(() => 0);
    for (const { deliveries: n, ...rest } of entries) {
      const { actor, plugin, keys, missing, revision, ...others } = rest;
      expect(others).toEqual({});
      const shape = JSON.stringify({ actor, plugin, keys, missing, revision });
      const index = shapes.findIndex((known) => JSON.stringify(known) === shape);
      expect(index).not.toBe(-1);
      if (n !== undefined) expect(n).toBeGreaterThanOrEqual(2);
      counted[index] += n ?? 1;
    }
    expect(counted).toEqual([40, 1, 5]);
    expect(entries.length).toBeLessThan(46);
  });

  it('a token limited to other plugins: 403, recorded as AccessDenied', async () => {
    const denied = await countRows(config, 'events');
    const res = await resolve(limited, { plugin: 'other-plugin', keys: ['CVAT_URL'] });
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain('resolve-test');
    expect(await countRows(config, 'events')).toBe(denied + 1);
    expect((await resolve(limited, { plugin: '@voxel51/annotation', keys: ['CVAT_URL'] })).status).toBe(200);
  });

  it('an admin may not read values: 403', async () => {
    expect((await t.request('/api/v1/resolve', { method: 'POST', json: { plugin: 'p', keys: ['CVAT_URL'] } })).status).toBe(403);
  });

  it.each([
    ['no keys', { plugin: 'p', keys: [] }],
    ['an invalid key', { plugin: 'p', keys: ['bad_key'] }],
    ['a repeated key', { plugin: 'p', keys: ['CVAT_URL', 'CVAT_URL'] }],
    ['257 keys', { plugin: 'p', keys: Array.from({ length: 257 }, (_, i) => `K${i}`) }],
    ['no plugin', { keys: ['CVAT_URL'] }],
    ['an unknown field', { plugin: 'p', keys: ['CVAT_URL'], all: true }],
    ['a body that is not an object', ['CVAT_URL']],
  ])('%s: 400, and nothing recorded', async (_label, body) => {
    const before = (await resolvedEvents()).length;
    const res = await resolve(executor, body);
    expect(res.status).toBe(400);
    expect(await resolvedEvents()).toHaveLength(before);
  });
});
