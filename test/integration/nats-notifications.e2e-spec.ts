import { connect, NatsConnection, Subscription } from 'nats';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { countRows, openDatabase } from '../support/data-dir';
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

describe('NATS: change notifications and secrets.resolve', () => {
  const data = tempDataDir();
  let nats: Awaited<ReturnType<typeof sharedNats>>;
  let t: TestApp;
  let nc: NatsConnection;
  let executor: string;

  beforeAll(async () => {
    nats = await sharedNats();
    t = await startTestApp(testConfig(data.dir, { natsUrl: nats.url }));
    nc = await connect({ servers: nats.url });
    executor = (await t.app.get(TokensService).issue({ name: 'nats-runner', role: 'executor', plugins: ['@acme/nats'] }, SYSTEM_ACTOR)).token;
    await expectEventually(async () => expect((await (await t.request('/health/ready')).json()).details.nats.connected).toBe(true));
  });
  afterAll(async () => {
    await nc.close();
    await t.close();
    await nats.dispose();
    data.cleanup();
  });

  it('publishes plain JSON with contiguous revisions and never the value', async () => {
    const [A, B] = [uniqueKey('NOTIFY_A'), uniqueKey('NOTIFY_B')];
    const raw = collect(nc.subscribe('secrets.changed.*'));
    const plaintexts = ['notify-plain-a1', 'notify-plain-a2', 'notify-plain-b1'];
    await t.request('/api/v1/secrets', { method: 'POST', json: { key: A, value: plaintexts[0] } });
    await t.request('/api/v1/secrets', { method: 'POST', json: { key: B, value: plaintexts[2] } });
    await t.request(`/api/v1/secrets/${A}`, { method: 'PATCH', json: { value: plaintexts[1] } });
    await t.request(`/api/v1/secrets/${B}`, { method: 'DELETE' });

    const mine = () =>
      raw.map((bytes) => JSON.parse(Buffer.from(bytes).toString('utf8'))).filter((n) => n.key === A || n.key === B);
    const notifications = await expectEventually(() => {
      const seen = mine();
      expect(seen).toHaveLength(4);
      return seen;
    });
    expect(notifications.map((n) => [n.type, n.key, n.version])).toEqual([
      ['SecretAdded', A, 1],
      ['SecretAdded', B, 1],
      ['SecretUpdated', A, 2],
      ['SecretRemoved', B, 2],
    ]);
    const revisions = notifications.map((n) => n.revision);
    expect(revisions).toEqual([revisions[0], revisions[0] + 1, revisions[0] + 2, revisions[0] + 3]);
    for (const n of notifications) {
      expect(Object.keys(n).sort()).toEqual(['at', 'eventId', 'key', 'revision', 'seq', 'type', 'version']);
    }
    for (const bytes of raw) {
      for (const plaintext of plaintexts) expect(Buffer.from(bytes).includes(Buffer.from(plaintext))).toBe(false);
    }
    const ready = await (await t.request('/health/ready')).json();
    expect(ready.details.notifications.lag).toBe(0);
  });

  const request = async (body: unknown) =>
    JSON.parse(Buffer.from((await nc.request('secrets.resolve', Buffer.from(JSON.stringify(body)), { timeout: 5_000 })).data).toString('utf8'));

  it('secrets.resolve answers like the HTTP route and records the read', async () => {
    await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'NATS_RESOLVE_URL', value: 'https://nats-resolve.example' } });
    const before = countRows(t.config.databasePath, 'events');
    const reply = await request({ token: executor, plugin: '@acme/nats', keys: ['NATS_RESOLVE_URL', 'NATS_RESOLVE_ABSENT'] });
    expect(reply).toEqual({ secrets: { NATS_RESOLVE_URL: 'https://nats-resolve.example' }, missing: ['NATS_RESOLVE_ABSENT'], unreadable: [], revision: expect.any(Number) });
    expect(countRows(t.config.databasePath, 'events')).toBe(before + 1);
  });

  it('secrets.resolve refused for another plugin is recorded as AccessDenied, like over HTTP', async () => {
    const denials = () => {
      const db = openDatabase(t.config.databasePath);
      try {
        return (db.prepare("SELECT actor FROM events WHERE type = 'AccessDenied'").all() as { actor: string }[]).map((row) => JSON.parse(row.actor).name);
      } finally {
        db.close();
      }
    };
    const before = denials().length;
    expect((await request({ token: executor, plugin: '@acme/elsewhere', keys: ['NATS_RESOLVE_URL'] })).error.status).toBe(403);
    expect(denials().slice(before)).toEqual(['nats-runner']);
  });

  it.each([
    ['an unknown token', { token: 'slt_nope', plugin: '@acme/nats', keys: ['NATS_RESOLVE_URL'] }, 401],
    ['another plugin', { token: 'EXECUTOR', plugin: '@acme/other', keys: ['NATS_RESOLVE_URL'] }, 403],
    ['an invalid key', { token: 'EXECUTOR', plugin: '@acme/nats', keys: ['bad_key'] }, 400],
    ['an unknown field', { token: 'EXECUTOR', plugin: '@acme/nats', keys: ['NATS_RESOLVE_URL'], all: true }, 400],
  ])('secrets.resolve with %s: an {error} reply with the HTTP status, and no value', async (_label, body, status) => {
    const reply = await request({ ...body, token: body.token === 'EXECUTOR' ? executor : body.token });
    expect(reply).toEqual({ error: { status, title: expect.any(String), detail: expect.any(String) } });
    expect(JSON.stringify(reply)).not.toContain('nats-resolve.example');
  });
});
