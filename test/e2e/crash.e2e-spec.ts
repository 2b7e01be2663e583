import { randomBytes } from 'node:crypto';
import { startServe, stop } from '../support/cli';
import { openDatabase } from '../support/data-dir';
import { ledgerState } from '../support/ledger-state';
import { Load, call, startLoad } from '../support/ledger-load';
import { ADMIN_TOKEN, startTestApp, tempDataDir, testConfig } from '../support/test-app';

/** A few rounds by default; SECRETS_LONG_TESTS=1 runs the long variant (README, "Running the tests"). */
const ROUNDS = process.env.SECRETS_LONG_TESTS === '1' ? 20 : 3;
jest.setTimeout(ROUNDS * 60_000);

const STABLE: Record<string, string> = Object.fromEntries(Array.from({ length: 24 }, (_, i) => [`STABLE_${i}`, `crash-stable-${randomBytes(6).toString('hex')}`]));

/**
 * SIGKILL of `serve` under concurrent writes, resolves and token changes, round after round on
 * the same data dir. After each crash, what a fresh connection and a restarted service find must
 * be everything that was acknowledged: values (the last acknowledged one, or a later one that was
 * in flight), issued and revoked tokens, a chain that verifies and a read model equal to a
 * rebuild from the log.
 */
describe(`crash: SIGKILL of serve under load (${ROUNDS} rounds)`, () => {
  it('loses no acknowledged write, keeps the chain verifying and the read model equal to a rebuild', async () => {
    const data = tempDataDir();
    const config = testConfig(data.dir, { masterKeys: [] });
    const env = { SECRETS_DATA_DIR: data.dir, SECRETS_ADMIN_TOKEN: ADMIN_TOKEN };
    try {
      const seeded = await startTestApp(config);
      for (const [key, value] of Object.entries(STABLE)) await seeded.request('/api/v1/secrets', { method: 'POST', json: { key, value } });
      await seeded.close();

      let previous: Load | undefined;
      for (let round = 0; round < ROUNDS; round++) {
        const server = await startServe(env);
        const executor = await issueExecutor(server.url);
        if (previous) await expectAcknowledged(server.url, executor, previous, config.databasePath);
        const exited = new Promise((resolve) => server.child.once('exit', resolve));
        const load = startLoad({ url: server.url, adminToken: ADMIN_TOKEN, executorToken: executor, stable: STABLE, prefix: `R${round}`, tokenChanges: true });
        await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 1200));
        server.child.kill('SIGKILL');
        await exited;
        await load.stop();
        expect(load.failures).toEqual([]);
        // Something to lose: a round that acknowledged nothing would prove nothing.
        expect(load.journal.acknowledgedCount).toBeGreaterThan(0);
        expect(load.tokens.issued.length).toBeGreaterThan(0);

        const state = await ledgerState(config.databasePath);
        expect(state.verified).toMatchObject({ ok: true });
        expect(state.rebuilt).toEqual({ readModel: state.readModel, revision: state.revision });
        // Who holds which version, as the resolves recorded it, is what the log alone rebuilds.
        expect(state.consumers.length).toBeGreaterThan(0);
        expect(state.rebuiltConsumers).toEqual(state.consumers);
        previous = load;
      }
      const last = await startServe(env);
      try {
        await expectAcknowledged(last.url, await issueExecutor(last.url), previous!, config.databasePath);
      } finally {
        await stop(last.child);
      }
    } finally {
      data.cleanup();
    }
  });
});

async function issueExecutor(url: string): Promise<string> {
  const res = await call(url, ADMIN_TOKEN, '/api/v1/tokens', { method: 'POST', json: { name: 'checker', role: 'executor' } });
  expect(res?.status).toBe(201);
  return ((await res!.json()) as { token: string }).token;
}

/** Everything `load` was told was stored is there after the crash. */
async function expectAcknowledged(url: string, executor: string, load: Load, databasePath: string): Promise<void> {
  const acceptable = load.journal.acceptable();
  const keys = [...acceptable.keys(), ...Object.keys(STABLE)];
  const res = await call(url, executor, '/api/v1/resolve', { method: 'POST', json: { plugin: 'check', keys } });
  expect(res?.status).toBe(200);
  const { secrets, missing, unreadable } = (await res!.json()) as { secrets: Record<string, string>; missing: string[]; unreadable: string[] };
  expect({ missing, unreadable }).toEqual({ missing: [], unreadable: [] });
  for (const [key, value] of Object.entries(STABLE)) expect(secrets[key]).toBe(value);
  const wrong = [...acceptable].filter(([key, values]) => !values.includes(secrets[key]));
  expect(wrong).toEqual([]);

  const db = openDatabase(databasePath);
  try {
    const tokens = new Map((db.prepare('SELECT id, revoked_at FROM tokens').all() as { id: string; revoked_at: string | null }[]).map((t) => [t.id, t.revoked_at]));
    expect(load.tokens.issued.filter((id) => !tokens.has(id))).toEqual([]);
    expect(load.tokens.revoked.filter((id) => tokens.get(id) == null)).toEqual([]);
  } finally {
    db.close();
  }
}
