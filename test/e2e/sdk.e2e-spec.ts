import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { PluginContext, SecretsClient, SecretsClientOptions, SecretsServiceError, UndeclaredSecretError, loadPluginManifest } from '../../src/client';
import { expectEventually } from '../support/expect-eventually';
import { sharedNats, uniqueKey } from '../support/nats';
import { TestApp, startTestApp, tempDataDir, testConfig } from '../support/test-app';

describe('SDK: hydrated contexts against the real service and NATS', () => {
  const data = tempDataDir();
  let nats: Awaited<ReturnType<typeof sharedNats>>;
  let t: TestApp;
  let executor: string;
  const clients: SecretsClient[] = [];

  const URL_KEY = uniqueKey('SDK_URL');
  const PASSWORD_KEY = uniqueKey('SDK_PASSWORD');
  const OTHER_KEY = uniqueKey('SDK_OTHER');
  const manifest = { name: '@acme/sdk-test', secrets: [URL_KEY, PASSWORD_KEY] };

  const connect = async (options: Partial<SecretsClientOptions> = {}) => {
    const client = await SecretsClient.connect({ url: t.baseUrl, nats: { url: nats.url }, token: executor, env: {}, ...options });
    clients.push(client);
    return client;
  };
  const put = (key: string, value: string) => t.request(`/api/v1/secrets/${key}`, { method: 'PATCH', json: { value } });
  const add = (key: string, value: string) => t.request('/api/v1/secrets', { method: 'POST', json: { key, value } });
  const remove = (key: string) => t.request(`/api/v1/secrets/${key}`, { method: 'DELETE' });

  beforeAll(async () => {
    nats = await sharedNats();
    t = await startTestApp(testConfig(data.dir, { nats: { url: nats.url } }));
    executor = (await t.app.get(TokensService).issue({ name: 'sdk-runner', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
    expect((await add(URL_KEY, 'https://cvat.example/v1')).status).toBe(201);
    expect((await add(PASSWORD_KEY, 'sdk-password-v1-93af')).status).toBe(201);
    expect((await add(OTHER_KEY, 'sdk-other-value')).status).toBe(201);
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await t.close();
    await nats.dispose();
    data.cleanup();
  });

  it("an admin's change reaches a hydrated context, with a change event naming the key", async () => {
    const ctx = await (await connect()).hydrate(manifest);
    expect(ctx.secrets.get(URL_KEY)).toBe('https://cvat.example/v1');
    expect(ctx.secrets.source(URL_KEY)).toBe('store');
    const changes: string[][] = [];
    ctx.on('change', (keys) => changes.push(keys));

    expect((await put(URL_KEY, 'https://cvat.example/v2')).status).toBe(200);
    await expectEventually(() => expect(ctx.secrets.get(URL_KEY)).toBe('https://cvat.example/v2'));
    expect(changes).toContainEqual([URL_KEY]);
    expect(ctx.stale).toBe(false);
  });

  it('caches contexts per manifest', async () => {
    const client = await connect();
    const first = await client.hydrate(manifest);
    expect(await client.hydrate({ ...manifest, secrets: [...manifest.secrets].reverse() })).toBe(first);
  });

  it('asking for an undeclared key throws UndeclaredSecretError, even when it is stored', async () => {
    const ctx = await (await connect()).hydrate(manifest);
    for (const ask of [() => ctx.secrets.get(OTHER_KEY), () => ctx.secrets.has(OTHER_KEY), () => ctx.secrets.require(OTHER_KEY)]) {
      expect(ask).toThrow(UndeclaredSecretError);
    }
    expect(ask(() => ctx.secrets.get(OTHER_KEY))).toMatch(new RegExp(`${OTHER_KEY} is not declared by plugin @acme/sdk-test`));
  });

  it('a removal falls back to the environment variable, or to undefined without one', async () => {
    const key = uniqueKey('SDK_REMOVED');
    const bare = uniqueKey('SDK_BARE');
    await add(key, 'stored-before-removal');
    await add(bare, 'bare-stored');
    const ctx = await (await connect({ precedence: 'store-first', env: { [key]: 'from-the-env' } })).hydrate({ name: 'p', secrets: [key, bare] });
    expect(ctx.secrets.get(key)).toBe('stored-before-removal');

    expect((await remove(key)).status).toBe(204);
    expect((await remove(bare)).status).toBe(204);
    await expectEventually(() => {
      expect(ctx.secrets.get(key)).toBe('from-the-env');
      expect(ctx.secrets.get(bare)).toBeUndefined();
    });
    expect(ctx.secrets.source(key)).toBe('env');
    expect(ctx.secrets.has(bare)).toBe(false);
    expect(() => ctx.secrets.require(bare)).toThrow(new RegExp(`${bare} .*has no value`));
  });

  it('precedence: env-first lets a non-empty env var win, an empty one does not hide the store; store-only ignores env', async () => {
    const env = { [URL_KEY]: 'https://from-env.example', [PASSWORD_KEY]: '' };
    const envFirst = await (await connect({ env })).hydrate(manifest);
    expect(envFirst.secrets.get(URL_KEY)).toBe('https://from-env.example');
    expect(envFirst.secrets.source(URL_KEY)).toBe('env');
    expect(envFirst.secrets.get(PASSWORD_KEY)).toBe('sdk-password-v1-93af');
    expect(envFirst.secrets.source(PASSWORD_KEY)).toBe('store');

    const storeOnly = await (await connect({ env, precedence: 'store-only' })).hydrate(manifest);
    expect(storeOnly.secrets.get(URL_KEY)).toMatch(/^https:\/\/cvat\.example/);
    expect(storeOnly.secrets.keys().sort()).toEqual([URL_KEY, PASSWORD_KEY].sort());
  });

  it("a FiftyOne plugin directory: a lower-case key comes from the environment and is never asked of the store; the keys beside it resolve", async () => {
    const plugin = tempDataDir('secrets-ledger-plugin-');
    try {
      writeFileSync(
        join(plugin.dir, 'fiftyone.yml'),
        `name: "@acme/hf"\ntype: plugin\nauthor: Acme\noperators: [infer]\nsecrets:\n  - ${URL_KEY}\n  - hf_endpoint\n  - ${URL_KEY}\n  - ${PASSWORD_KEY}\n`,
      );
      const loaded = await loadPluginManifest(plugin.dir);
      expect(loaded.secrets).toEqual([URL_KEY, 'hf_endpoint', PASSWORD_KEY]);
      expect(loaded.warnings).toHaveLength(2);

      // The service refuses the key outright, so a context that asked for it would not hydrate.
      const asked = await t.request('/api/v1/resolve', { method: 'POST', token: executor, json: { plugin: '@acme/hf', keys: [URL_KEY, 'hf_endpoint'] } });
      expect(asked.status).toBe(400);

      const ctx = await (await connect({ env: { hf_endpoint: 'https://hf.example/v1' } })).hydrate(loaded);
      expect(ctx.secrets.get('hf_endpoint')).toBe('https://hf.example/v1');
      expect(ctx.secrets.source('hf_endpoint')).toBe('env');
      expect(ctx.secrets.source(URL_KEY)).toBe('store');
      expect(ctx.secrets.get(PASSWORD_KEY)).toBe('sdk-password-v1-93af');

      const storeOnly = await (await connect({ env: { hf_endpoint: 'https://hf.example/v1' }, precedence: 'store-only' })).hydrate(loaded);
      expect(storeOnly.secrets.has('hf_endpoint')).toBe(false);
      expect(storeOnly.secrets.source(PASSWORD_KEY)).toBe('store');
    } finally {
      plugin.cleanup();
    }
  });

  it('a manifest with nothing the store could hold hydrates without asking the service', async () => {
    const bogus = await connect({ token: 'slt_not-a-token-the-service-knows-000000', nats: undefined, follow: false, env: { lower_only: 'from-env' } });
    const ctx = await bogus.hydrate({ name: 'env-only', secrets: ['lower_only'] });
    expect(ctx.secrets.get('lower_only')).toBe('from-env');
    await expect(bogus.hydrate({ name: 'no-secrets', secrets: [] })).resolves.toBeInstanceOf(PluginContext);
    // Control: with a key the store could hold, the same client asks, and is refused.
    await expect(bogus.hydrate({ name: 'asks', secrets: [URL_KEY] })).rejects.toMatchObject({ status: 401 });
  });

  it('values never appear in toJSON, toString or inspect', async () => {
    const client = await connect();
    const ctx = await client.hydrate(manifest);
    expect(ctx.secrets.get(PASSWORD_KEY)).toBe('sdk-password-v1-93af');
    const renderings = [
      JSON.stringify(ctx),
      JSON.stringify(ctx.secrets),
      JSON.stringify({ client }),
      String(ctx),
      String(ctx.secrets),
      String(client),
      inspect(ctx, { depth: 10, showHidden: true }),
      inspect(ctx.secrets, { depth: 10, showHidden: true }),
      inspect(client, { depth: 10, showHidden: true }),
    ];
    for (const text of renderings) {
      expect(text).not.toContain('sdk-password-v1-93af');
      expect(text).not.toContain(executor);
    }
    expect(JSON.stringify(ctx.secrets)).toContain(PASSWORD_KEY);
  });

  it('duplicate and out-of-order notifications change nothing; a revision gap triggers a full resync', async () => {
    // No notifications for this client: the test hands it them itself.
    const client = await connect({ nats: undefined, follow: false });
    const ctx: PluginContext = await client.hydrate(manifest);
    const revision = ctx.revision;
    const notify = (body: object) => (client as unknown as { onNotification(d: unknown): void }).onNotification(body);
    const settled = () => Promise.all([...(client as unknown as { contexts: Map<string, { refresher: { idle(): Promise<void> } }> }).contexts.values()].map((h) => h.refresher.idle()));
    const password = 'sdk-password-v2-77d0';
    await put(PASSWORD_KEY, password);

    // Not newer than the snapshot the context holds: ignored, so the context has not seen v2.
    notify({ type: 'SecretUpdated', key: URL_KEY, version: 1, revision: revision - 1, seq: 1, eventId: 'x', at: '' });
    notify({ type: 'SecretUpdated', key: URL_KEY, version: 2, revision, seq: 1, eventId: 'x', at: '' });
    await settled();
    expect(ctx.secrets.get(PASSWORD_KEY)).toBe('sdk-password-v1-93af');

    // A notification for a key it does not declare, far ahead: the gap makes it resync everything.
    notify({ type: 'SecretUpdated', key: OTHER_KEY, version: 9, revision: revision + 50, seq: 1, eventId: 'x', at: '' });
    await expectEventually(() => expect(ctx.secrets.get(PASSWORD_KEY)).toBe(password));
    expect(ctx.revision).toBeGreaterThan(revision);
  });

  it('without notifications, the periodic resync still brings a change', async () => {
    const key = uniqueKey('SDK_PERIODIC');
    await add(key, 'periodic-v1');
    const ctx = await (await connect({ nats: undefined, follow: false, resyncIntervalMs: 100 })).hydrate({ name: 'periodic', secrets: [key] });
    expect(ctx.secrets.get(key)).toBe('periodic-v1');
    await put(key, 'periodic-v2');
    await expectEventually(() => expect(ctx.secrets.get(key)).toBe('periodic-v2'));
  });

  it('a token not allowed for the plugin is refused with SecretsServiceError 403, naming no value', async () => {
    const tokens = t.app.get(TokensService);
    const token = (await tokens.issue({ name: 'other-plugin-runner', role: 'executor', plugins: ['@acme/other'] }, SYSTEM_ACTOR)).token;
    const refusal = await (await connect({ token })).hydrate(manifest).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(SecretsServiceError);
    expect(refusal).toMatchObject({ status: 403 });
    expect(String((refusal as Error).message)).not.toMatch(/sdk-password|cvat\.example/);
  });

  it('a token revoked after hydration: the next refresh is refused, the values stay, and the context turns stale', async () => {
    const tokens = t.app.get(TokensService);
    const issued = await tokens.issue({ name: 'soon-revoked', role: 'executor', plugins: null }, SYSTEM_ACTOR);
    const key = uniqueKey('SDK_REVOKED');
    expect((await add(key, 'before-revocation')).status).toBe(201);
    const ctx = await (await connect({ token: issued.token })).hydrate({ name: 'revoked-plugin', secrets: [key] });
    expect(ctx.stale).toBe(false);

    await tokens.revoke(issued.id, SYSTEM_ACTOR);
    expect((await put(key, 'after-revocation')).status).toBe(200);
    // The notification still arrives (it carries no value); the resolve it triggers is refused.
    await expectEventually(() => expect(ctx.stale).toBe(true));
    expect(ctx.secrets.get(key)).toBe('before-revocation');
  });

  it('when the service cannot be reached the last values stay and the context is stale', async () => {
    const own = tempDataDir();
    const config = testConfig(own.dir, { nats: { url: nats.url } });
    const service = await startTestApp(config);
    try {
      const token = (await service.app.get(TokensService).issue({ name: 'stale', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
      const key = uniqueKey('SDK_STALE');
      await service.request('/api/v1/secrets', { method: 'POST', json: { key, value: 'last-known-value' } });
      const client = await connect({ url: service.baseUrl, nats: undefined, follow: false, token, requestTimeoutMs: 1_000 });
      const ctx = await client.hydrate({ name: 'stale-plugin', secrets: [key] });
      expect(ctx.stale).toBe(false);

      await service.close();
      await client.resync();
      expect(ctx.stale).toBe(true);
      expect(ctx.secrets.get(key)).toBe('last-known-value');
    } finally {
      await service.close();
      own.cleanup();
    }
  });
});

function ask(fn: () => unknown): string {
  try {
    fn();
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}
