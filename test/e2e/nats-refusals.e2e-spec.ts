import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PluginContext, SecretsClient } from '../../src/client';
import { startServe, stop, watchPluginRun } from '../support/cli';
import { expectEventually } from '../support/expect-eventually';
import { PrivateNatsServer, uniqueKey } from '../support/nats';
import { tempDataDir } from '../support/test-app';

/*
 * SPEC §7: credentials in NATS_URL, and a link that outlives every refusal. The service runs as
 * `serve` (its whole output is searched for credentials), the SDK in this process, `run --watch`
 * as a child; each NATS server is this file's own, so its users can change by a config reload.
 */

const ADMIN_TOKEN = 'slt_nats-refusals-admin-token-0123456789abcdef';
/** Characters a URL must percent-encode, so a credential that is not decoded cannot pass. */
const password = (who: string) => `${who}-p@ss:w/rd%?#-${randomBytes(6).toString('hex')}`;
const usersConfig = (users: Record<string, string>) =>
  `authorization {\n  users = [\n${Object.entries(users)
    .map(([user, pass]) => `    { user: ${user}, password: ${JSON.stringify(pass)} }`)
    .join('\n')}\n  ]\n}\n`;
const urlWith = (server: PrivateNatsServer, user: string, pass: string) => `nats://${user}:${encodeURIComponent(pass)}@127.0.0.1:${server.port}`;

/** Every spelling a credential could take in a log line: as is, and as it sits in the URL. */
function leakedIn(text: string, credentials: string[]): string[] {
  return credentials.flatMap((secret) => [secret, encodeURIComponent(secret)]).filter((spelling) => text.includes(spelling));
}

interface Service {
  url: string;
  output: () => string;
  ready: () => Promise<{ status: number; nats: { connected: boolean; state: string; error?: string }; notifications: { lag: number } }>;
  executor: string;
  put: (key: string, value: string) => Promise<number>;
  close: () => Promise<void>;
}

async function serve(natsUrl: string): Promise<Service> {
  const data = tempDataDir();
  const server = await startServe({ SECRETS_DATA_DIR: data.dir, SECRETS_ADMIN_TOKEN: ADMIN_TOKEN, NATS_URL: natsUrl, LOG_LEVEL: 'info' });
  const call = (path: string, method = 'GET', json?: unknown) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
  const issued = (await (await call('/api/v1/tokens', 'POST', { name: 'refusals-executor', role: 'executor', plugins: null })).json()) as { token: string };
  const keys = new Set<string>();
  return {
    url: server.url,
    output: server.output,
    executor: issued.token,
    ready: async () => {
      const response = await fetch(`${server.url}/health/ready`);
      const body = (await response.json()) as { details: { nats: never; notifications: never } };
      return { status: response.status, nats: body.details.nats, notifications: body.details.notifications };
    },
    put: async (key, value) => {
      const response = keys.has(key) ? await call(`/api/v1/secrets/${key}`, 'PATCH', { value }) : await call('/api/v1/secrets', 'POST', { key, value });
      keys.add(key);
      return response.status;
    },
    close: async () => {
      await stop(server.child);
      data.cleanup();
    },
  };
}

/** The SDK on one key, with its log lines and every `live` event kept. */
async function sdk(service: Service, natsUrl: string, key: string) {
  const log: string[] = [];
  const client = await SecretsClient.connect({
    url: service.url,
    token: service.executor,
    nats: { url: natsUrl },
    env: {},
    // Only a notification (or a reconnect) can bring a change while the test watches.
    resyncIntervalMs: 3_600_000,
    log: (level, message) => log.push(`${level}: ${message}`),
  });
  const ctx: PluginContext = await client.hydrate({ name: '@acme/refusals', secrets: [key] });
  const liveEvents: boolean[] = [];
  ctx.on('live', (live) => liveEvents.push(live));
  return { client, ctx, log, liveEvents };
}

/** `run --watch` on one key; its stderr is kept. */
function run(service: Service, natsUrl: string, key: string) {
  const work = tempDataDir('secrets-ledger-refusals-run-');
  const manifest = join(work.dir, 'fiftyone.yml');
  writeFileSync(manifest, `name: "@acme/refusals-run"\nsecrets:\n  - ${key}\n`);
  const child = watchPluginRun(manifest, key, join(work.dir, 'starts.txt'), { SECRETS_URL: service.url, SECRETS_TOKEN: service.executor, NATS_URL: natsUrl });
  return {
    ...child,
    stop: async () => {
      await child.stop();
      work.cleanup();
    },
  };
}

describe('NATS credentials in the URL, and refusals that never end the link', () => {
  const ledgerPassword = password('ledger');
  const executorPassword = password('executor');
  let nats: PrivateNatsServer;

  beforeEach(async () => {
    nats = await PrivateNatsServer.start({ config: usersConfig({ ledger: ledgerPassword, executor: executorPassword }) });
  });
  afterEach(async () => {
    await nats.dispose();
  });

  it('the scan finds a credential where one is (control)', () => {
    const url = urlWith(nats, 'ledger', ledgerPassword);
    expect(leakedIn(`connecting to ${url}`, [ledgerPassword])).toEqual([encodeURIComponent(ledgerPassword)]);
    expect(leakedIn(usersConfig({ ledger: ledgerPassword }), [ledgerPassword])).toEqual([ledgerPassword]);
  });

  it('user:password@ in NATS_URL authenticates the service, the SDK and run --watch, and no output shows the credentials', async () => {
    const service = await serve(urlWith(nats, 'ledger', ledgerPassword));
    const key = uniqueKey('URL_CREDENTIALS');
    const executorUrl = urlWith(nats, 'executor', executorPassword);
    expect(await service.put(key, 'url-v1')).toBe(201);
    const client = await sdk(service, executorUrl, key);
    const watcher = run(service, executorUrl, key);
    try {
      await expectEventually(async () => expect((await service.ready()).nats.connected).toBe(true));
      await expectEventually(() => expect(client.ctx.live).toBe(true));
      await expectEventually(() => expect(watcher.starts()).toEqual(['url-v1']), 20_000);

      expect(await service.put(key, 'url-v2')).toBe(200);
      // No periodic resync in the SDK: only a notification brings the change.
      await expectEventually(() => expect(client.ctx.secrets.get(key)).toBe('url-v2'));
      await expectEventually(() => expect(watcher.starts()).toEqual(['url-v1', 'url-v2']), 20_000);
      // run names the key that changed, never its value.
      expect(watcher.stderr()).toContain(`${key} changed: restarting the command`);
      expect(watcher.stderr()).not.toMatch(/url-v[12]/);

      // Nothing was refused: every client authenticated from the URL alone.
      expect(nats.authenticationErrors('ledger') + nats.authenticationErrors('executor')).toBe(0);
      const outputs = [service.output(), JSON.stringify(await service.ready()), client.log.join('\n'), watcher.stderr(), JSON.stringify(client.client)];
      expect(leakedIn(outputs.join('\n'), [ledgerPassword, executorPassword])).toEqual([]);
    } finally {
      await watcher.stop();
      await client.client.close();
      await service.close();
    }
  });

  it.each([
    ['before the first connection', 'refused from the start'],
    ['after being connected', 'refused after a password change on the server'],
  ])('a server that refuses twice %s and accepts after a config reload: notifications resume without a restart (%s)', async (when) => {
    const key = uniqueKey('REFUSED');
    const serviceUrl = urlWith(nats, 'ledger', ledgerPassword);
    const executorUrl = urlWith(nats, 'executor', executorPassword);
    const wrong = { ledger: password('old-ledger'), executor: password('old-executor') };
    if (when === 'before the first connection') await nats.reload(usersConfig(wrong));
    const service = await serve(serviceUrl);
    expect(await service.put(key, 'refused-v1')).toBe(201);
    const client = await sdk(service, executorUrl, key);
    const watcher = run(service, executorUrl, key);
    try {
      await expectEventually(() => expect(watcher.starts()).toEqual(['refused-v1']), 20_000);
      if (when === 'after being connected') {
        await expectEventually(async () => expect((await service.ready()).nats.connected).toBe(true));
        await expectEventually(() => expect(client.ctx.live).toBe(true));
        await nats.reload(usersConfig(wrong));
      }

      // Refused at least twice each: the `nats` package gives up on the second refusal in a row
      // unless told not to, and a first connect that fails throws.
      await expectEventually(() => {
        expect(nats.authenticationErrors('ledger')).toBeGreaterThanOrEqual(2);
        expect(nats.authenticationErrors('executor')).toBeGreaterThanOrEqual(4);
      }, 20_000);
      const refused = await service.ready();
      expect(refused.status).toBe(200);
      expect(refused.nats.connected).toBe(false);
      expect(refused.nats.error).toMatch(/refused our credentials \(Authorization Violation\)/);
      expect(refused.nats.error).toContain(`NATS at nats://127.0.0.1:${nats.port} `);
      expect(client.ctx.live).toBe(false);
      expect(client.log.join('\n')).toMatch(/warn: cannot receive change notifications \(NATS at .* refused our credentials/);
      await expectEventually(() => expect(watcher.stderr()).toMatch(/warning: cannot receive change notifications \(NATS at .* refused our credentials/));
      expect(await service.put(key, 'refused-v2')).toBe(200);

      // The operator fixes the server; nothing on our side restarts.
      await nats.reload(usersConfig({ ledger: ledgerPassword, executor: executorPassword }));
      await expectEventually(async () => expect(await service.ready()).toMatchObject({ nats: { connected: true }, notifications: { lag: 0 } }), 20_000);
      await expectEventually(() => expect(client.ctx.live).toBe(true), 20_000);
      await expectEventually(() => expect(client.ctx.secrets.get(key)).toBe('refused-v2'));
      expect((await service.ready()).nats.error).toBeUndefined();
      // And notifications flow again: no resync in the SDK, so this one came over NATS.
      expect(await service.put(key, 'refused-v3')).toBe(200);
      await expectEventually(() => expect(client.ctx.secrets.get(key)).toBe('refused-v3'));
      await expectEventually(() => expect(watcher.starts().slice(-1)).toEqual(['refused-v3']), 20_000);
      expect(watcher.stderr()).toMatch(/receiving change notifications again/);
      expect(client.log.join('\n')).toMatch(/info: receiving change notifications again/);
      // Never live before the server accepted it; or live, then not, then live again.
      expect(client.liveEvents.slice(-2)).toEqual(when === 'after being connected' ? [false, true] : [true]);

      const outputs = [service.output(), JSON.stringify(refused), client.log.join('\n'), watcher.stderr()];
      expect(leakedIn(outputs.join('\n'), [ledgerPassword, executorPassword, wrong.ledger, wrong.executor])).toEqual([]);
    } finally {
      await watcher.stop();
      await client.client.close();
      await service.close();
    }
  }, 90_000);

  it('while NATS is unreachable, ctx.live is false and run --watch warns; when it is back, both say so', async () => {
    const service = await serve(urlWith(nats, 'ledger', ledgerPassword));
    const key = uniqueKey('UNREACHABLE');
    const executorUrl = urlWith(nats, 'executor', executorPassword);
    expect(await service.put(key, 'away-v1')).toBe(201);
    const client = await sdk(service, executorUrl, key);
    const watcher = run(service, executorUrl, key);
    try {
      await expectEventually(() => expect(client.ctx.live).toBe(true));
      await expectEventually(() => expect(watcher.starts()).toEqual(['away-v1']), 20_000);
      expect(watcher.stderr()).not.toMatch(/cannot receive/);

      await nats.stop();
      await expectEventually(() => expect(client.ctx.live).toBe(false));
      expect(client.liveEvents).toEqual([false]);
      await expectEventually(() => expect(watcher.stderr()).toMatch(/secrets-ledger run: warning: cannot receive change notifications \(NATS at nats:\/\/127\.0\.0\.1:\d+: connection lost/));
      const down = await service.ready();
      expect(down.nats).toMatchObject({ connected: false, error: expect.stringMatching(/connection lost/) });

      await nats.resume();
      await expectEventually(() => expect(client.ctx.live).toBe(true), 20_000);
      expect(client.liveEvents).toEqual([false, true]);
      await expectEventually(() => expect(watcher.stderr()).toMatch(/secrets-ledger run: receiving change notifications again/), 20_000);
      expect(await service.put(key, 'away-v2')).toBe(200);
      await expectEventually(() => expect(client.ctx.secrets.get(key)).toBe('away-v2'));
    } finally {
      await watcher.stop();
      await client.client.close();
      await service.close();
    }
    // Generous: a stop, a resume and a reconnect on a loaded machine; the waits inside are the bounds.
  }, 90_000);

  it('an SDK given credentials both in the URL and as options refuses to start, naming neither', async () => {
    await expect(
      SecretsClient.connect({ url: 'http://127.0.0.1:1', token: 'slt_x', nats: { url: urlWith(nats, 'executor', executorPassword), user: 'executor', password: executorPassword } }),
    ).rejects.toThrow(/^NATS credentials are given both in the URL and as options: choose one$/);
  });
});
