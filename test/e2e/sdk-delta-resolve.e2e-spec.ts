import { connect as connectNats, NatsConnection } from 'nats';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { SecretsClient, SecretsClientOptions } from '../../src/client';
import type { ChangeNotification } from '../../src/contract/change-notification';
import { allChangesSubject } from '../../src/nats/contract';
import { DEFAULT_SUBJECT_PREFIX } from '../../src/nats/nats-options';
import { expectEventually } from '../support/expect-eventually';
import { PrivateNatsServer, uniqueKey } from '../support/nats';
import { withRawDatabase } from '../support/raw-database';
import { TestApp, startTestApp, tempDataDir, testConfig, writeSecret } from '../support/test-app';

type Transport = 'nats' | 'stream';

/**
 * SPEC §5: a notification for a declared key refreshes that key alone (a delta resolve); a
 * revision gap, a reconnect and the periodic resync resolve every key. What each resolve asked
 * is read from the `SecretsResolved` entries the service wrote for it.
 */
describe('SDK delta resolves: a change costs the service the keys it touched, not the manifest', () => {
  const data = tempDataDir();
  // A server of its own: on a shared one, other checkouts' notifications would be gaps to this client, each a full resolve.
  let nats: PrivateNatsServer;
  let t: TestApp;
  const clients: SecretsClient[] = [];

  const write = (key: string, value: string) => writeSecret(t, key, value);
  /** Twelve stored keys, as the benchmark's manifest has. */
  const twelveKeys = async (prefix: string) => {
    const keys = Array.from({ length: 12 }, (_, i) => uniqueKey(`${prefix}_${i + 1}`));
    for (const key of keys) await write(key, `${key.toLowerCase()}-v1`);
    return keys;
  };
  /** A client on a token of its own, so the resolves it caused can be told from the others'. */
  const executor = async (transport: Transport | 'none', options: Partial<SecretsClientOptions> = {}) => {
    const name = `delta-${transport}-${clients.length}`;
    const token = (await t.app.get(TokensService).issue({ name, role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
    const client = await SecretsClient.connect({
      url: t.baseUrl,
      token,
      env: {},
      precedence: 'store-only',
      resyncIntervalMs: 3_600_000,
      ...(transport === 'nats' ? { nats: { url: nats.url } } : {}),
      ...(transport === 'none' ? { follow: false } : {}),
      ...options,
    });
    clients.push(client);
    return { client, name };
  };
  /**
   * Hydrates `manifest`; returns the context and how many resolves its token has made once they
   * settle. A client whose contexts are all of one plugin has that plugin's values pushed on its
   * stream (SPEC §3, values mode) and resolves nothing for a change: on the stream, a context of
   * a second plugin keeps it value-free, the case a delta resolve serves (the stream reopens
   * value-free, and the reconnection resyncs every context once).
   */
  const hydrate = async (transport: Transport, client: SecretsClient, tokenName: string, manifest: { name: string; secrets: string[] }) => {
    const ctx = await client.hydrate(manifest);
    if (transport === 'stream') await client.hydrate({ name: 'delta-other-plugin', secrets: ['DELTA_OTHER_PLUGIN_KEY'] });
    let asks = await askedBy(tokenName);
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 750));
      const now = await askedBy(tokenName);
      if (now.length === asks.length) return { ctx, asks };
      asks = now;
    }
  };
  /** The keys each resolve answered to `tokenName` asked for, oldest first (identical deliveries that shared an entry count each). */
  const askedBy = async (tokenName: string): Promise<string[][]> => {
    const rows = await withRawDatabase(t.config, (db) => db.all<{ actor: string; data: string }>("SELECT actor, data FROM events WHERE type = 'SecretsResolved' ORDER BY seq"));
    return rows
      .filter((row) => JSON.parse(row.actor).name === tokenName && (JSON.parse(row.data) as { plugin: string }).plugin !== 'delta-other-plugin')
      .flatMap((row) => {
        const entry = JSON.parse(row.data) as { keys: { key: string }[]; missing: string[]; unreadable?: string[]; expired?: string[]; deliveries?: number };
        const asked = [...entry.keys.map(({ key }) => key), ...entry.missing, ...(entry.unreadable ?? []), ...(entry.expired ?? [])].sort();
        return Array.from({ length: entry.deliveries ?? 1 }, () => asked);
      });
  };

  beforeAll(async () => {
    nats = await PrivateNatsServer.start();
    t = await startTestApp(testConfig(data.dir, { nats: { url: nats.url } }));
    await expectEventually(async () => expect((await (await t.request('/health/ready')).json()).details.nats.connected).toBe(true));
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await t.close();
    await nats.dispose();
    data.cleanup();
  });

  describe.each<Transport>(['nats', 'stream'])('notified over %s (value-free)', (transport) => {
    it('a change to one key of a 12-key manifest makes a resolve of exactly that key', async () => {
      const keys = await twelveKeys(`DELTA_ONE_${transport.toUpperCase()}`);
      const { client, name } = await executor(transport);
      const { ctx, asks } = await hydrate(transport, client, name, { name: 'delta-one', secrets: keys });
      expect(asks[0]).toEqual([...keys].sort());

      await write(keys[4], 'changed-v2');
      await expectEventually(() => expect(ctx.secrets.get(keys[4])).toBe('changed-v2'));
      await expectEventually(async () => expect((await askedBy(name)).slice(asks.length)).toEqual([[keys[4]]]));
      // The other eleven kept their values.
      expect(keys.filter((key, i) => i !== 4).map((key) => ctx.secrets.get(key))).toEqual(keys.filter((key, i) => i !== 4).map((key) => `${key.toLowerCase()}-v1`));
    });

    it('a burst of changes is folded: fewer resolves than changes, each asking only changed keys, none the whole manifest', async () => {
      const keys = await twelveKeys(`DELTA_BURST_${transport.toUpperCase()}`);
      const { client, name } = await executor(transport);
      const { ctx, asks } = await hydrate(transport, client, name, { name: 'delta-burst', secrets: keys });
      const changed = keys.slice(0, 4);
      const rounds = 5;
      // Each round writes the four keys at once; the rounds follow one another, so the last value of each is known.
      for (let round = 1; round <= rounds; round++) await Promise.all(changed.map((key) => write(key, `burst-${round}`)));
      await expectEventually(() => expect(changed.map((key) => ctx.secrets.get(key))).toEqual(changed.map(() => 'burst-5')));
      const deltas = (await askedBy(name)).slice(asks.length);
      expect(deltas.length).toBeGreaterThan(0);
      expect(deltas.length).toBeLessThan(changed.length * rounds);
      for (const asked of deltas) expect(changed).toEqual(expect.arrayContaining(asked));
      expect(keys.slice(4).map((key) => ctx.secrets.get(key))).toEqual(keys.slice(4).map((key) => `${key.toLowerCase()}-v1`));
    });

    it('a removed key leaves the context, and its delta asked for it alone', async () => {
      const keys = await twelveKeys(`DELTA_GONE_${transport.toUpperCase()}`);
      const { client, name } = await executor(transport);
      const { ctx, asks } = await hydrate(transport, client, name, { name: 'delta-gone', secrets: keys });
      const changes: string[][] = [];
      ctx.on('change', (moved) => changes.push(moved));
      expect((await t.request(`/api/v1/secrets/${keys[7]}`, { method: 'DELETE' })).status).toBe(204);
      await expectEventually(() => expect(ctx.secrets.has(keys[7])).toBe(false));
      expect(ctx.secrets.keys()).toEqual(keys.filter((_, i) => i !== 7));
      expect(changes).toEqual([[keys[7]]]);
      await expectEventually(async () => expect((await askedBy(name)).slice(asks.length)).toEqual([[keys[7]]]));
    });
  });

  it('a lost notification (a revision gap) makes a full resolve, which brings the change it announced', async () => {
    const keys = await twelveKeys('DELTA_GAP');
    // The real notifications, heard on NATS and handed to a client that follows nothing itself, one of them withheld.
    const spy: NatsConnection = await connectNats({ servers: nats.url });
    const heard: ChangeNotification[] = [];
    spy.subscribe(allChangesSubject(DEFAULT_SUBJECT_PREFIX), { callback: (_error, message) => heard.push(message.json<ChangeNotification>()) });
    await spy.flush();
    try {
      const { client, name } = await executor('none');
      const ctx = await client.hydrate({ name: 'delta-gap', secrets: keys });
      const notify = (change: ChangeNotification) => (client as unknown as { onNotification(data: unknown): void }).onNotification(change);

      await write(keys[0], 'gap-a2');
      await expectEventually(() => expect(heard.filter((n) => n.key === keys[0])).toHaveLength(1));
      notify(heard.find((n) => n.key === keys[0])!);
      await expectEventually(() => expect(ctx.secrets.get(keys[0])).toBe('gap-a2'));
      expect((await askedBy(name)).slice(1)).toEqual([[keys[0]]]);

      // keys[1]'s notification is lost; keys[2]'s arrives, one revision too far ahead.
      await write(keys[1], 'gap-b2');
      await write(keys[2], 'gap-c2');
      await expectEventually(() => expect(heard.filter((n) => n.key === keys[1] || n.key === keys[2])).toHaveLength(2));
      notify(heard.find((n) => n.key === keys[2])!);
      await expectEventually(() => expect([ctx.secrets.get(keys[1]), ctx.secrets.get(keys[2])]).toEqual(['gap-b2', 'gap-c2']));
      await expectEventually(async () => expect((await askedBy(name)).slice(1)).toEqual([[keys[0]], [...keys].sort()]));
    } finally {
      await spy.close();
    }
  });
});
