import fc from 'fast-check';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { OpenStreams } from '../../src/changes/open-streams';
import { ResolveService } from '../../src/resolve/resolve.service';
import { SecretsClient, SecretsClientOptions } from '../../src/client';
import type { SecretsResolvedData } from '../../src/resolve/delivery-records';
import { expectEventually } from '../support/expect-eventually';
import { uniqueKey } from '../support/nats';
import { withRawDatabase } from '../support/raw-database';
import { useTestApp, writeSecret } from '../support/test-app';

/**
 * SPEC §5: without `nats`, a client whose contexts share one plugin follows its stream in values
 * mode, and a change's value reaches its contexts without a resolve.
 */
describe('the SDK on a values-mode change stream', () => {
  const t = useTestApp({ nats: { url: 'nats://127.0.0.1:1' } });
  let executor: { id: string; token: string };
  const clients: SecretsClient[] = [];

  const connect = async (options: Partial<SecretsClientOptions> = {}) => {
    const client = await SecretsClient.connect({ url: t.baseUrl, token: executor.token, env: {}, resyncIntervalMs: 3_600_000, log: () => undefined, ...options });
    clients.push(client);
    return client;
  };
  const write = (key: string, value: string) => writeSecret(t, key, value);
  /** The token's deliveries by way: resolves, and values pushed over streams. */
  const deliveries = async () => {
    const rows = await withRawDatabase(t.config, (db) => db.all<{ actor: string; data: string }>("SELECT actor, data FROM events WHERE type = 'SecretsResolved'"));
    const count = { resolved: 0, pushed: 0 };
    for (const row of rows) {
      if (JSON.parse(row.actor).id !== executor.id) continue;
      const data = JSON.parse(row.data) as SecretsResolvedData;
      count[data.via === 'stream' ? 'pushed' : 'resolved'] += data.deliveries ?? 1;
    }
    return count;
  };
  /**
   * Resolves once the client has settled after hydrating: its values stream answered (hydrate
   * waits for that) and the resync its opening caused answered (a resync now waits for it).
   */
  const settled = async (client: SecretsClient, before: number) => {
    expect(t.app.get(OpenStreams).size).toBeGreaterThan(before);
    await client.resync();
  };
  /** A new client's context of plugin `sdk-values` for these keys, once settled. */
  const hydrated = async (secrets: string[], options: Partial<SecretsClientOptions> = {}) => {
    const streams = t.app.get(OpenStreams).size;
    const client = await connect(options);
    const ctx = await client.hydrate({ name: 'sdk-values', secrets });
    await settled(client, streams);
    return { client, ctx };
  };

  beforeAll(async () => {
    executor = await t.app.get(TokensService).issue({ name: 'sdk-values', role: 'executor', plugins: null }, SYSTEM_ACTOR);
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
  });

  it('a change reaches the context as a pushed value, with no resolve, and the value is the one resolve gives', async () => {
    const [key, other] = [uniqueKey('SDK_PUSH'), uniqueKey('SDK_PUSH_OTHER')];
    await write(key, 'sdk-push-1');
    await write(other, 'sdk-push-other-1');
    const { client, ctx } = await hydrated([key, other]);
    const before = await deliveries();
    const changed = new Promise<string[]>((resolve) => ctx.on('change', resolve));
    await write(key, 'sdk-push-2');
    expect(await changed).toEqual([key]);
    expect(ctx.secrets.get(key)).toBe('sdk-push-2');
    expect(ctx.secrets.get(other)).toBe('sdk-push-other-1');
    const after = await deliveries();
    expect(after).toEqual({ resolved: before.resolved, pushed: before.pushed + 1 });
    await client.resync();
    expect(ctx.secrets.get(key)).toBe('sdk-push-2');
  });

  it('values with line breaks, text shaped like the stream itself, controls and any Unicode arrive byte for byte as pushed, with no resolve', async () => {
    const key = uniqueKey('SDK_PUSH_TEXT');
    await write(key, 'sdk-push-text-0');
    const { ctx } = await hydrated([key]);
    const shaped = ['line one\nline two', 'crlf\r\nand a lone cr\r', 'data: forged\n\nid: 999999\nevent: revoked\n\n', '\u2028\u2029 separators', '\u0000\u0001\u001f controls', '🔑 émoji ünïcode 鍵', ': a comment line'];
    const generated = fc.sample(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), 10);
    // Numbered, so that no two writes carry the same value and each arrival is told apart.
    const values = [...shaped, ...generated].map((value, i) => `${i}|${value}`);
    const before = await deliveries();
    for (const value of values) {
      await write(key, value);
      await expectEventually(() => expect(ctx.secrets.get(key)).toBe(value));
    }
    expect(await deliveries()).toEqual({ resolved: before.resolved, pushed: before.pushed + values.length });
  });

  it('a removal (no value) is resolved: the key is gone from the context', async () => {
    const key = uniqueKey('SDK_PUSH_GONE');
    await write(key, 'sdk-gone-1');
    const { ctx } = await hydrated([key]);
    expect((await t.request(`/api/v1/secrets/${key}`, { method: 'DELETE' })).status).toBe(204);
    await expectEventually(() => expect(ctx.secrets.get(key)).toBeUndefined());
    await write(key, 'sdk-gone-2');
    await expectEventually(() => expect(ctx.secrets.get(key)).toBe('sdk-gone-2'));
  });

  it('a key whose resolve failed is resolved again at the next pushed value of another key', async () => {
    const [owed, pushed] = [uniqueKey('SDK_OWED'), uniqueKey('SDK_OWED_PUSHED')];
    await write(owed, 'sdk-owed-1');
    await write(pushed, 'sdk-owed-pushed-1');
    const { ctx } = await hydrated([owed, pushed]);
    // A removal carries no value: the client resolves the key, and that resolve fails once.
    const resolve = jest.spyOn(t.app.get(ResolveService), 'resolve').mockRejectedValueOnce(new Error('storage unavailable'));
    try {
      expect((await t.request(`/api/v1/secrets/${owed}`, { method: 'DELETE' })).status).toBe(204);
      await expectEventually(() => expect(resolve).toHaveBeenCalled());
      await expectEventually(() => expect(ctx.stale).toBe(true));
    } finally {
      resolve.mockRestore();
    }
    expect(ctx.secrets.get(owed)).toBe('sdk-owed-1');
    await write(pushed, 'sdk-owed-pushed-2');
    await expectEventually(() => expect(ctx.secrets.get(owed)).toBeUndefined());
    expect(ctx.secrets.get(pushed)).toBe('sdk-owed-pushed-2');
    expect(ctx.stale).toBe(false);
  });

  it('env-first: a pushed value does not hide the environment variable', async () => {
    const key = uniqueKey('SDK_PUSH_ENV');
    await write(key, 'sdk-env-store-1');
    const { ctx } = await hydrated([key], { env: { [key]: 'from-the-environment' } });
    const pushedBefore = (await deliveries()).pushed;
    await write(key, 'sdk-env-store-2');
    await expectEventually(async () => expect((await deliveries()).pushed).toBe(pushedBefore + 1));
    expect([ctx.secrets.get(key), ctx.secrets.source(key)]).toEqual(['from-the-environment', 'env']);
  });

  it('contexts of two plugins in one client: a value-free stream, and changes still arrive by resolve', async () => {
    const key = uniqueKey('SDK_TWO_PLUGINS');
    await write(key, 'two-plugins-1');
    const streams = t.app.get(OpenStreams).size;
    const client = await connect();
    const [a, b] = [await client.hydrate({ name: 'plugin-a', secrets: [key] }), await client.hydrate({ name: 'plugin-b', secrets: [key] })];
    await settled(client, streams);
    const before = await deliveries();
    await write(key, 'two-plugins-2');
    await expectEventually(() => expect([a.secrets.get(key), b.secrets.get(key)]).toEqual(['two-plugins-2', 'two-plugins-2']));
    const after = await deliveries();
    expect(after.pushed).toBe(before.pushed);
    expect(after.resolved).toBeGreaterThanOrEqual(before.resolved + 2);
  });
});
