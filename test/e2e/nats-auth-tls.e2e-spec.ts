import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, NatsConnection } from 'nats';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { SecretsClient, SecretsClientOptions } from '../../src/client';
import type { NatsOptions } from '../../src/nats/nats-options';
import { makeTestPki, TestPki } from '../support/certificates';
import { watchPluginRun } from '../support/cli';
import { withRawDatabase } from '../support/raw-database';
import { expectEventually } from '../support/expect-eventually';
import { PrivateNatsServer, uniqueKey } from '../support/nats';
import { TestApp, startTestApp, tempDataDir, testConfig } from '../support/test-app';

const DEPLOYED_CONFIG = readFileSync(join(__dirname, '../../deploy/nats/nats-server.conf'), 'utf8');
const PASSWORDS = { LEDGER_NATS_PASSWORD: 'ledger-nats-pw-5d1e7c', EXECUTOR_NATS_PASSWORD: 'executor-nats-pw-a93b02' };

/** A ledger on its own data dir, talking to NATS with `nats`, and an executor token for it. */
async function ledger(nats: NatsOptions, natsPrefix = 'secrets') {
  const data = tempDataDir();
  const t = await startTestApp(testConfig(data.dir, { nats, natsPrefix }));
  const executor = (await t.app.get(TokensService).issue({ name: 'auth-executor', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
  const ready = async () => (await (await t.request('/health/ready')).json()).details.nats;
  return {
    t,
    executor,
    ready,
    add: (key: string, value: string) => t.request('/api/v1/secrets', { method: 'POST', json: { key, value } }),
    put: (key: string, value: string) => t.request(`/api/v1/secrets/${key}`, { method: 'PATCH', json: { value } }),
    close: async () => {
      await t.close();
      data.cleanup();
    },
  };
}
type Ledger = Awaited<ReturnType<typeof ledger>>;

/** An SDK context on one key; resolves with it once hydrated. */
async function hydrateOne(service: Ledger, key: string, options: Partial<SecretsClientOptions>) {
  const client = await SecretsClient.connect({ url: service.t.baseUrl, token: service.executor, env: {}, ...options });
  return { client, ctx: await client.hydrate({ name: '@acme/auth', secrets: [key] }) };
}

/** The service, the SDK and `run` all reach NATS with `options`, and a change reaches both clients. */
async function expectNotificationsFlow(service: Ledger, sdkNats: NatsOptions, runEnv: NodeJS.ProcessEnv) {
  await expectEventually(async () => expect(await service.ready()).toMatchObject({ connected: true }), 30_000);
  const key = uniqueKey('AUTH_FLOW');
  expect((await service.add(key, 'flow-v1')).status).toBe(201);
  const { client, ctx } = await hydrateOne(service, key, { nats: sdkNats, resyncIntervalMs: 3_600_000 });
  const work = tempDataDir('secrets-ledger-auth-run-');
  const manifest = join(work.dir, 'fiftyone.yml');
  writeFileSync(manifest, `name: "@acme/auth-run"\nsecrets:\n  - ${key}\n`);
  const run = watchPluginRun(manifest, key, join(work.dir, 'starts.txt'), { SECRETS_URL: service.t.baseUrl, SECRETS_TOKEN: service.executor, ...runEnv });
  try {
    await expectEventually(() => expect(run.starts()).toEqual(['flow-v1']), 20_000);
    expect((await service.put(key, 'flow-v2')).status).toBe(200);
    // No periodic resync in this client: only a notification can bring the change this fast.
    await expectEventually(() => expect(ctx.secrets.get(key)).toBe('flow-v2'));
    await expectEventually(() => expect(run.starts()).toEqual(['flow-v1', 'flow-v2']), 20_000);
  } finally {
    await run.stop();
    await client.close();
    work.cleanup();
  }
}

describe('NATS with the committed authorization (deploy/nats/nats-server.conf)', () => {
  let nats: PrivateNatsServer;
  let service: Ledger;
  const executorNats = (url: string): NatsOptions => ({ url, user: 'executor', password: PASSWORDS.EXECUTOR_NATS_PASSWORD });

  beforeAll(async () => {
    nats = await PrivateNatsServer.start({ config: DEPLOYED_CONFIG, env: PASSWORDS });
    service = await ledger({ url: nats.url, user: 'ledger', password: PASSWORDS.LEDGER_NATS_PASSWORD });
  });
  afterAll(async () => {
    await service.close();
    await nats.dispose();
  });

  it('the service publishes as "ledger"; the SDK and run subscribe as "executor" and get notifications', async () => {
    await expectNotificationsFlow(service, executorNats(nats.url), { NATS_URL: nats.url, NATS_USER: 'executor', NATS_PASSWORD: PASSWORDS.EXECUTOR_NATS_PASSWORD });
  });

  it('an executor cannot forge a notification: the server refuses its publish, and no subscriber receives it', async () => {
    const listener = await connect({ servers: nats.url, user: 'executor', pass: PASSWORDS.EXECUTOR_NATS_PASSWORD });
    const forger = await connect({ servers: nats.url, user: 'executor', pass: PASSWORDS.EXECUTOR_NATS_PASSWORD });
    const received: string[] = [];
    listener.subscribe('secrets.changed.>', { callback: (_e, message) => received.push(message.subject) });
    await listener.flush();
    const refusals: string[] = [];
    void (async () => {
      for await (const status of forger.status()) if (status.type === 'error') refusals.push(String(status.data));
    })();
    forger.publish('secrets.changed.FORGED_KEY', JSON.stringify({ key: 'FORGED_KEY', revision: 1e9 }));
    await forger.flush().catch(() => undefined);
    await expectEventually(() => expect(refusals.join(' ')).toMatch(/permissions.violation/i));
    // A real change through the service does arrive at the same listener: it was listening.
    const key = uniqueKey('AUTH_REAL');
    await expectEventually(async () => expect(await service.ready()).toMatchObject({ connected: true }), 30_000);
    expect((await service.add(key, 'real-v1')).status).toBe(201);
    await expectEventually(() => expect(received).toContain(`secrets.changed.${key}`));
    expect(received).not.toContain('secrets.changed.FORGED_KEY');
    await listener.close();
    await forger.close();
  });

  it('with a wrong password the service starts, serves HTTP, and /health/ready names the NATS refusal', async () => {
    const wrong = await ledger({ url: nats.url, user: 'ledger', password: 'not-the-password-0000' });
    try {
      expect((await wrong.add(uniqueKey('AUTH_WRONG'), 'written-without-nats')).status).toBe(201);
      const ready = await wrong.t.request('/health/ready');
      expect(ready.status).toBe(200);
      const natsState = await expectEventually(async () => {
        const state = await wrong.ready();
        expect(state.error).toMatch(/refused our credentials \(Authorization Violation\)/);
        return state;
      });
      expect(natsState.connected).toBe(false);
      expect(JSON.stringify(natsState)).not.toContain('not-the-password-0000');
    } finally {
      await wrong.close();
    }
  });
});

describe('NATS over TLS with a CA made by the test, and client certificates required', () => {
  let pki: TestPki;
  let nats: PrivateNatsServer;
  let service: Ledger;
  const tlsOptions = () => ({ caFile: pki.caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile });

  beforeAll(async () => {
    pki = makeTestPki();
    nats = await PrivateNatsServer.start({
      scheme: 'tls',
      config: `tls {\n  cert_file: "${pki.serverCertFile}"\n  key_file: "${pki.serverKeyFile}"\n  ca_file: "${pki.caFile}"\n  verify: true\n}\n`,
    });
    service = await ledger({ url: nats.url, tls: tlsOptions() });
  });
  afterAll(async () => {
    await service.close();
    await nats.dispose();
    pki.cleanup();
  });

  it('the service, the SDK and run connect with the CA and a client certificate, and get notifications', async () => {
    await expectNotificationsFlow(service, { url: nats.url, tls: tlsOptions() }, {
      NATS_URL: nats.url,
      NATS_TLS_CA_FILE: pki.caFile,
      NATS_TLS_CERT_FILE: pki.clientCertFile,
      NATS_TLS_KEY_FILE: pki.clientKeyFile,
    });
  });

  it('without the CA the service still serves, and /health/ready names the TLS failure', async () => {
    const untrusting = await ledger({ url: nats.url });
    try {
      expect((await untrusting.add(uniqueKey('TLS_NO_CA'), 'written-without-nats')).status).toBe(201);
      await expectEventually(async () => expect((await untrusting.ready()).error).toMatch(/TLS failed/));
    } finally {
      await untrusting.close();
    }
  });
});

describe('two ledgers with different prefixes on one NATS server', () => {
  let nats: PrivateNatsServer;
  let alpha: Ledger;
  let beta: Ledger;

  beforeAll(async () => {
    nats = await PrivateNatsServer.start();
    alpha = await ledger({ url: nats.url }, 'alpha');
    beta = await ledger({ url: nats.url }, 'beta.ledger');
  });
  afterAll(async () => {
    await alpha.close();
    await beta.close();
    await nats.dispose();
  });

  it("each SDK sees only its own ledger's changes, even for a key both ledgers hold", async () => {
    const key = uniqueKey('PREFIX_SHARED');
    for (const [service, value] of [[alpha, 'alpha-v1'], [beta, 'beta-v1']] as const) expect((await service.add(key, value)).status).toBe(201);
    const a = await hydrateOne(alpha, key, { nats: { url: nats.url, prefix: 'alpha' }, resyncIntervalMs: 3_600_000 });
    const b = await hydrateOne(beta, key, { nats: { url: nats.url, prefix: 'beta.ledger' }, resyncIntervalMs: 3_600_000 });
    const spy: NatsConnection = await connect({ servers: nats.url });
    const subjects: string[] = [];
    spy.subscribe('>', { callback: (_e, message) => subjects.push(message.subject) });
    await spy.flush();
    const resolvesOf = async (service: Ledger) =>
      (await withRawDatabase(service.t.config, (db) => db.get<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE type = 'SecretsResolved'")))!.n;
    try {
      const alphaResolves = await resolvesOf(alpha);
      expect((await beta.put(key, 'beta-v2')).status).toBe(200);
      await expectEventually(() => expect(b.ctx.secrets.get(key)).toBe('beta-v2'));
      await expectEventually(() => expect(subjects).toContain(`beta.ledger.changed.${key}`));
      // Beta's notification did not reach alpha's client: it did not even ask alpha.
      expect(await resolvesOf(alpha)).toBe(alphaResolves);
      expect(a.ctx.secrets.get(key)).toBe('alpha-v1');

      expect((await alpha.put(key, 'alpha-v2')).status).toBe(200);
      await expectEventually(() => expect(a.ctx.secrets.get(key)).toBe('alpha-v2'));
      expect(b.ctx.secrets.get(key)).toBe('beta-v2');
      expect(subjects).toContain(`alpha.changed.${key}`);
      expect(subjects.filter((s) => s.startsWith('secrets.'))).toEqual([]);
    } finally {
      await spy.close();
      await a.client.close();
      await b.client.close();
    }
  });
});
