import { connect, NatsConnection, Subscription } from 'nats';
import { expectEventually } from '../support/expect-eventually';
import { sharedNats, uniqueKey } from '../support/nats';
import { TestApp, startTestApp, tempDataDir, testConfig } from '../support/test-app';

/** Collects raw messages with a plain `nats` client: no project code on the consumer side. */
function collect(subscription: Subscription): Uint8Array[] {
  const raw: Uint8Array[] = [];
  void (async () => {
    for await (const message of subscription) raw.push(message.data);
  })();
  return raw;
}

describe('NATS: change notifications', () => {
  const data = tempDataDir();
  let nats: Awaited<ReturnType<typeof sharedNats>>;
  let t: TestApp;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await sharedNats();
    t = await startTestApp(testConfig(data.dir, { nats: { url: nats.url } }));
    nc = await connect({ servers: nats.url });
    await expectEventually(async () => expect((await (await t.request('/health/ready')).json()).details.nats.connected).toBe(true));
  });
  afterAll(async () => {
    await nc.close();
    await t.close();
    await nats.dispose();
    data.cleanup();
  });

  it('publishes plain JSON with contiguous revisions and never the value, a rollback included', async () => {
    const [A, B] = [uniqueKey('NOTIFY_A'), uniqueKey('NOTIFY_B')];
    const raw = collect(nc.subscribe('secrets.changed.*'));
    const plaintexts = ['notify-plain-a1', 'notify-plain-a2', 'notify-plain-b1'];
    await t.request('/api/v1/secrets', { method: 'POST', json: { key: A, value: plaintexts[0] } });
    await t.request('/api/v1/secrets', { method: 'POST', json: { key: B, value: plaintexts[2] } });
    await t.request(`/api/v1/secrets/${A}`, { method: 'PATCH', json: { value: plaintexts[1] } });
    await t.request(`/api/v1/secrets/${B}`, { method: 'DELETE' });
    // A rollback is a change like any other; a destroy changes no secret's state and is not one.
    expect((await t.request(`/api/v1/secrets/${A}/rollback`, { method: 'POST', json: { toVersion: 1 } })).status).toBe(200);
    expect((await t.request(`/api/v1/secrets/${A}/versions/2`, { method: 'DELETE' })).status).toBe(204);
    await t.request(`/api/v1/secrets/${A}`, { method: 'PATCH', json: { description: 'after the destroy' } });

    const mine = () =>
      raw.map((bytes) => JSON.parse(Buffer.from(bytes).toString('utf8'))).filter((n) => n.key === A || n.key === B);
    const notifications = await expectEventually(() => {
      const seen = mine();
      expect(seen).toHaveLength(6);
      return seen;
    });
    expect(notifications.map((n) => [n.type, n.key, n.version])).toEqual([
      ['SecretAdded', A, 1],
      ['SecretAdded', B, 1],
      ['SecretUpdated', A, 2],
      ['SecretRemoved', B, 2],
      ['SecretRolledBack', A, 3],
      ['SecretUpdated', A, 4],
    ]);
    const revisions = notifications.map((n) => n.revision);
    expect(revisions).toEqual(revisions.map((_, i) => revisions[0] + i));
    for (const n of notifications) {
      expect(Object.keys(n).sort()).toEqual(['at', 'eventId', 'key', 'revision', 'seq', 'type', 'version']);
    }
    for (const bytes of raw) {
      for (const plaintext of plaintexts) expect(Buffer.from(bytes).includes(Buffer.from(plaintext))).toBe(false);
    }
    const ready = await (await t.request('/health/ready')).json();
    expect(ready.details.notifications.lag).toBe(0);
  });
});
