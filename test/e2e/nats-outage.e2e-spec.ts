import { connect, NatsConnection } from 'nats';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { SecretsClient } from '../../src/client';
import { countRows } from '../support/raw-database';
import { expectEventually } from '../support/expect-eventually';
import { PrivateNatsServer, sharedNats, uniqueKey } from '../support/nats';
import { TestApp, startTestApp, tempDataDir, testConfig } from '../support/test-app';

const readiness = async (t: TestApp) => {
  const res = await t.request('/health/ready', { token: null });
  return { status: res.status, body: await res.json() };
};

/** These tests stop and restart NATS, so they run their own server, never the shared one. */
describe('NATS outages', () => {
  let server: PrivateNatsServer;

  beforeAll(async () => {
    server = await PrivateNatsServer.start();
  });
  afterAll(async () => {
    await server.dispose();
  });

  it('with NATS stopped, writes still succeed and readiness reports it; after NATS returns the context converges', async () => {
    const data = tempDataDir();
    const t = await startTestApp(testConfig(data.dir, { nats: { url: server.url } }));
    const key = uniqueKey('OUTAGE');
    const client = await (async () => {
      await expectEventually(async () => expect((await readiness(t)).body.details.nats.connected).toBe(true));
      const executor = (await t.app.get(TokensService).issue({ name: 'outage', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
      // No periodic resync in this test: convergence must come from the reconnect and the relay.
      return SecretsClient.connect({ url: t.baseUrl, nats: { url: server.url }, token: executor, env: {}, resyncIntervalMs: 3_600_000 });
    })();
    try {
      expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key, value: 'before-outage' } })).status).toBe(201);
      const ctx = await client.hydrate({ name: 'outage-plugin', secrets: [key] });
      expect(ctx.secrets.get(key)).toBe('before-outage');

      await server.stop();
      await expectEventually(async () => expect((await readiness(t)).body.details.nats.connected).toBe(false));
      expect((await t.request(`/api/v1/secrets/${key}`, { method: 'PATCH', json: { value: 'during-outage' } })).status).toBe(200);
      const down = await readiness(t);
      expect(down.status).toBe(200);
      expect(down.body.details.notifications.lag).toBeGreaterThanOrEqual(1);

      await server.resume();
      await expectEventually(() => expect(ctx.secrets.get(key)).toBe('during-outage'), 15_000);
      await expectEventually(async () => expect((await readiness(t)).body.details.notifications.lag).toBe(0), 15_000);
      expect(ctx.stale).toBe(false);
    } finally {
      await client.close();
      await t.close();
      data.cleanup();
    }
  });

  it('a client that reconnects resyncs every context, even with no notification to hear', async () => {
    // The service publishes on another NATS server than the one the client listens to, and the
    // periodic resync is off: only the reconnect can bring the change.
    const shared = await sharedNats();
    const data = tempDataDir();
    const t = await startTestApp(testConfig(data.dir, { nats: { url: shared.url } }));
    const key = uniqueKey('RECONNECT');
    const executor = (await t.app.get(TokensService).issue({ name: 'reconnect', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
    await t.request('/api/v1/secrets', { method: 'POST', json: { key, value: 'before-reconnect' } });
    const client = await SecretsClient.connect({ url: t.baseUrl, nats: { url: server.url }, token: executor, env: {}, resyncIntervalMs: 3_600_000 });
    try {
      const ctx = await client.hydrate({ name: 'reconnect-plugin', secrets: [key] });
      await server.stop();
      await t.request(`/api/v1/secrets/${key}`, { method: 'PATCH', json: { value: 'after-reconnect' } });
      expect(ctx.secrets.get(key)).toBe('before-reconnect');
      await server.resume();
      await expectEventually(() => expect(ctx.secrets.get(key)).toBe('after-reconnect'), 15_000);
    } finally {
      await client.close();
      await t.close();
      await shared.dispose();
      data.cleanup();
    }
  });

  it('a relay stopped mid-stream resumes from its checkpoint: every revision arrives (duplicates allowed)', async () => {
    const data = tempDataDir();
    const config = testConfig(data.dir, { nats: { url: server.url } });
    const nc: NatsConnection = await connect({ servers: server.url });
    const seen: { key: string; revision: number; version: number }[] = [];
    const keys = [uniqueKey('RELAY_A'), uniqueKey('RELAY_B')];
    void (async () => {
      for await (const message of nc.subscribe('secrets.changed.*')) seen.push(JSON.parse(Buffer.from(message.data).toString('utf8')));
    })();
    const write = async (t: TestApp, i: number) => {
      const key = keys[i % 2];
      const res = i < 2 ? await t.request('/api/v1/secrets', { method: 'POST', json: { key, value: `relay-v${i}` } }) : await t.request(`/api/v1/secrets/${key}`, { method: 'PATCH', json: { value: `relay-v${i}` } });
      expect(res.status).toBeLessThan(300);
    };
    const revisionsSeen = () => [...new Set(seen.filter((n) => keys.includes(n.key)).map((n) => n.revision))].sort((a, b) => a - b);
    try {
      const first = await startTestApp(config);
      for (let i = 0; i < 3; i++) await write(first, i);
      await expectEventually(() => expect(revisionsSeen()).toEqual([1, 2, 3]));

      // Another instance writes while it cannot reach NATS: the events wait in the log.
      const offline = await first.restart({ nats: { url: 'nats://127.0.0.1:1' } });
      for (let i = 3; i < 7; i++) await write(offline, i);
      expect((await readiness(offline)).body.details.notifications.lag).toBe(4);
      await offline.stop();
      expect(revisionsSeen()).toEqual([1, 2, 3]);

      const again = await offline.restart({ nats: config.nats });
      await expectEventually(() => expect(revisionsSeen()).toEqual([1, 2, 3, 4, 5, 6, 7]));
      // In revision order: the first time each revision was seen follows the previous one.
      const firstSeen = revisionsSeen().map((revision) => seen.findIndex((n) => keys.includes(n.key) && n.revision === revision));
      expect(firstSeen).toEqual([...firstSeen].sort((a, b) => a - b));
      await again.close();
    } finally {
      await nc.close();
      data.cleanup();
    }
  });

  it('shuts down while NATS is away, with every acknowledged write kept', async () => {
    const data = tempDataDir();
    const t = await startTestApp(testConfig(data.dir, { nats: { url: server.url } }));
    try {
      await expectEventually(async () => expect((await readiness(t)).body.details.nats.connected).toBe(true));
      expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key: uniqueKey('SHUTDOWN'), value: 'a' } })).status).toBe(201);
      await server.stop();
      await expectEventually(async () => expect((await readiness(t)).body.details.nats.connected).toBe(false));
      expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key: uniqueKey('SHUTDOWN'), value: 'b' } })).status).toBe(201);
      // Neither the relay's flush nor the connection's drain may wait for the server to return
      // (a hang here fails the test on Jest's timeout).
      await t.stop();
      expect(await countRows(t.config, 'secrets')).toBe(2);
    } finally {
      await t.close();
      await server.resume();
      data.cleanup();
    }
  });
});
