import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig, MasterKeySpec } from '../../src/config/configuration';
import { DEV_KEY_FILE } from '../../src/crypto/master-keyring';
import { spawnCli, startServe, stop } from '../support/cli';
import { openDatabase } from '../support/data-dir';
import { expectEventually } from '../support/expect-eventually';
import { ledgerState } from '../support/ledger-state';
import { call, startLoad } from '../support/ledger-load';
import { ADMIN_TOKEN, startTestApp, tempDataDir, testConfig } from '../support/test-app';

/** Enough data keys for several rewrap batches (500 rows each), so that traffic interleaves with them. */
const SEEDED_KEYS = 300;
const masterKey = (kid: string): MasterKeySpec => ({ kid, key: randomBytes(32) });
const envKeys = (keys: MasterKeySpec[]) => keys.map((k) => `${k.kid}:${k.key.toString('base64')}`).join(',');

function kidsInUse(config: AppConfig): string[] {
  const db = openDatabase(config.databasePath);
  try {
    return (db.prepare('SELECT DISTINCT kid FROM data_keys ORDER BY kid').all() as { kid: string }[]).map((r) => r.kid);
  } finally {
    db.close();
  }
}

const devKids = (dir: string) => readFileSync(join(dir, DEV_KEY_FILE), 'utf8').trim().split('\n').map((line) => line.split(':')[0]);

/** SEEDED_KEYS secrets with two versions each (two data keys), written in-process before the service starts. */
async function seed(config: AppConfig): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  const t = await startTestApp(config);
  try {
    const keys = Array.from({ length: SEEDED_KEYS }, (_, i) => `ROTATE_${i}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys.slice(i, i + 50).map(async (key) => {
          values[key] = `rotation-${randomBytes(8).toString('hex')}`;
          expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key, value: `${values[key]}-old` } })).status).toBe(201);
          expect((await t.request(`/api/v1/secrets/${key}`, { method: 'PATCH', json: { value: values[key] } })).status).toBe(200);
        }),
      );
    }
  } finally {
    await t.close();
  }
  return values;
}

async function executorToken(url: string): Promise<string> {
  const res = await call(url, ADMIN_TOKEN, '/api/v1/tokens', { method: 'POST', json: { name: 'runner', role: 'executor' } });
  return ((await res!.json()) as { token: string }).token;
}

/** Every value the service holds resolves (in chunks of the resolve limit). */
async function expectEveryValueResolves(url: string, token: string, expected: Record<string, string>): Promise<void> {
  const keys = Object.keys(expected);
  for (let i = 0; i < keys.length; i += 256) {
    const chunk = keys.slice(i, i + 256);
    const res = await call(url, token, '/api/v1/resolve', { method: 'POST', json: { plugin: 'check', keys: chunk } });
    expect(res?.status).toBe(200);
    const body = (await res!.json()) as { secrets: Record<string, string>; missing: string[]; unreadable: string[] };
    expect({ missing: body.missing, unreadable: body.unreadable }).toEqual({ missing: [], unreadable: [] });
    expect(body.secrets).toEqual(Object.fromEntries(chunk.map((key) => [key, expected[key]])));
  }
}

/**
 * SIGKILLs `child` at a moment of the rotation picked at random: just after the new key reached
 * the key file (nothing rewrapped yet), or once the first data keys are under it. Says which,
 * and how far the rewrap had got, so the output shows what the test exercised.
 */
async function killDuringRotation(child: ChildProcess, dir: string, config: AppConfig): Promise<string> {
  const next = `dev-${Math.max(...devKids(dir).map((kid) => Number(kid.slice(4)))) + 1}`;
  const moment = Math.random() < 0.5 ? 'when the new key reached the key file' : 'once data keys were under the new key';
  await expectEventually(() => expect(moment.startsWith('when') ? devKids(dir) : kidsInUse(config)).toContain(next), 60_000, 2);
  child.kill('SIGKILL');
  const db = openDatabase(config.databasePath);
  try {
    const counts = db.prepare('SELECT kid, COUNT(*) AS n FROM data_keys GROUP BY kid ORDER BY kid').all() as { kid: string; n: number }[];
    return `${moment}: data keys ${counts.map((c) => `${c.kid}=${c.n}`).join(' ')}`;
  } finally {
    db.close();
  }
}

/** A service started afresh with `env` opens every value. */
async function expectEveryValueResolvesOnRestart(env: NodeJS.ProcessEnv, expected: Record<string, string>): Promise<void> {
  const server = await startServe(env);
  try {
    await expectEveryValueResolves(server.url, await executorToken(server.url), expected);
  } finally {
    await stop(server.child);
  }
}

async function expectLedgerIntact(config: AppConfig): Promise<void> {
  const state = await ledgerState(config.databasePath);
  expect(state.chainOk).toBe(true);
  expect(state.rebuilt).toEqual({ readModel: state.readModel, revision: state.revision });
  expect(state.rebuiltConsumers).toEqual(state.consumers);
}

// Several service starts and CLI runs per test, on a machine shared with other test runs.
jest.setTimeout(180_000);

describe('rotate-master-key while the service runs', () => {
  it('with the development key file: the service generates the key, rewraps under traffic, and only then calls the old key retirable', async () => {
    const data = tempDataDir();
    const config = testConfig(data.dir, { masterKeys: [] });
    const env = { SECRETS_DATA_DIR: data.dir, SECRETS_ADMIN_TOKEN: ADMIN_TOKEN };
    try {
      const values = await seed(config);
      const server = await startServe(env);
      try {
        const executor = await executorToken(server.url);
        const load = startLoad({ url: server.url, adminToken: ADMIN_TOKEN, executorToken: executor, stable: values, prefix: 'DEV' });
        const started = Date.now();
        // SECRETS_URL and SECRETS_TOKEN as pasted (docs/CLI.md): an /api/v1 address, a Bearer token with a newline.
        const run = await spawnCli(['rotate-master-key'], { ...env, SECRETS_URL: `${server.url}/api/v1/`, SECRETS_TOKEN: `Bearer ${ADMIN_TOKEN}\n` }).done;
        console.log(`rotation through the service: ${Date.now() - started} ms; ${load.resolves} resolves meanwhile`);
        await load.stop();
        expect(run.stderr).toMatch(/holds the data dir; rotating through http/);
        expect(run.status).toBe(0);
        expect(run.stdout).toMatch(/generated master key dev-2/);
        expect(run.stdout).toMatch(/rewrapped \d+ data keys from \[dev-1\] to dev-2/);
        expect(run.stdout).toMatch(/no data key uses dev-1 any more: it may be retired/);
        expect(load.failures).toEqual([]);
        expect(load.resolves).toBeGreaterThan(0);

        // Values written during the rotation included: nothing is left under dev-1.
        expect(kidsInUse(config)).toEqual(['dev-2']);
        expect(devKids(data.dir)).toEqual(['dev-2', 'dev-1']);
        await expectEveryValueResolves(server.url, executor, values);
      } finally {
        await stop(server.child);
      }
      // A restart loads the key file the service wrote: the same values open.
      await expectEveryValueResolvesOnRestart(env, values);
      await expectLedgerIntact(config);
    } finally {
      data.cleanup();
    }
  });

  it('with SECRETS_MASTER_KEYS: refused while the service wraps with another key; rewraps under traffic once it runs with the new one', async () => {
    const data = tempDataDir();
    const [k1, k2] = [masterKey('k1'), masterKey('k2')];
    const config = testConfig(data.dir, { masterKeys: [k1] });
    const env = { SECRETS_DATA_DIR: data.dir, SECRETS_ADMIN_TOKEN: ADMIN_TOKEN };
    try {
      const values = await seed(config);

      // The service still runs with k1 alone: rewrapping under k2 would leave values it cannot open.
      const old = await startServe({ ...env, SECRETS_MASTER_KEYS: envKeys([k1]) });
      try {
        const refused = await spawnCli(['rotate-master-key'], { ...env, SECRETS_MASTER_KEYS: envKeys([k2, k1]) }).done;
        expect(refused.status).toBe(1);
        // The 409 does not repeat the request's activeKid (SPEC §3); the CLI adds what it sent.
        expect(refused.stderr).toMatch(/refused the rotation \(409\): This service wraps new values with master key k1, not the key the request expects: .*\(SECRETS_MASTER_KEYS here makes k2 active\)/);
        expect(refused.stdout).not.toMatch(/retired/);
        expect(kidsInUse(config)).toEqual(['k1']);
      } finally {
        await stop(old.child);
      }

      const server = await startServe({ ...env, SECRETS_MASTER_KEYS: envKeys([k2, k1]) });
      try {
        const executor = await executorToken(server.url);
        const load = startLoad({ url: server.url, adminToken: ADMIN_TOKEN, executorToken: executor, stable: values, prefix: 'ENV' });
        const run = await spawnCli(['rotate-master-key'], { ...env, SECRETS_MASTER_KEYS: envKeys([k2, k1]) }).done;
        await load.stop();
        expect(run.status).toBe(0);
        expect(run.stdout).toMatch(/rewrapped \d+ data keys from \[k1\] to k2/);
        expect(run.stdout).toMatch(/no data key uses k1 any more: it may be retired \(removed from SECRETS_MASTER_KEYS\)/);
        expect(load.failures).toEqual([]);
        expect(kidsInUse(config)).toEqual(['k2']);
        await expectEveryValueResolves(server.url, executor, values);
      } finally {
        await stop(server.child);
      }
      // Retired as told: k2 alone opens everything.
      await expectEveryValueResolvesOnRestart({ ...env, SECRETS_MASTER_KEYS: envKeys([k2]) }, values);
      await expectLedgerIntact(config);
    } finally {
      data.cleanup();
    }
  });

  it('a SIGKILL at a random moment of the rotation (of the service, or of an offline CLI run) loses nothing; running it again finishes the job', async () => {
    const data = tempDataDir();
    const config = testConfig(data.dir, { masterKeys: [] });
    const env = { SECRETS_DATA_DIR: data.dir, SECRETS_ADMIN_TOKEN: ADMIN_TOKEN };
    try {
      const values = await seed(config);

      // The service dies in the middle of the rotation it runs.
      const server = await startServe(env);
      const executor = await executorToken(server.url);
      const load = startLoad({ url: server.url, adminToken: ADMIN_TOKEN, executorToken: executor, stable: values, prefix: 'KILL' });
      const run = spawnCli(['rotate-master-key'], env);
      console.log(`service killed ${await killDuringRotation(server.child, data.dir, config)}`);
      await load.stop();
      await run.done;
      expect(load.failures).toEqual([]);

      // An offline run (no service) killed in the middle.
      const offline = spawnCli(['rotate-master-key'], env);
      console.log(`offline CLI killed ${await killDuringRotation(offline.child, data.dir, config)}`);
      await offline.done;

      // Whatever was done: every data key is under a key of the key file, and every value opens.
      const restarted = await startServe(env);
      try {
        const kids = devKids(data.dir);
        expect(kidsInUse(config).filter((kid) => !kids.includes(kid))).toEqual([]);
        const token = await executorToken(restarted.url);
        await expectEveryValueResolves(restarted.url, token, values);
        const written = load.journal.acceptable();
        const res = await call(restarted.url, token, '/api/v1/resolve', { method: 'POST', json: { plugin: 'check', keys: [...written.keys()] } });
        const { secrets } = (await res!.json()) as { secrets: Record<string, string> };
        for (const [key, acceptable] of written) expect(acceptable).toContain(secrets[key]);

        const finish = await spawnCli(['rotate-master-key'], env).done;
        expect(finish.status).toBe(0);
        const active = devKids(data.dir)[0];
        expect(kidsInUse(config)).toEqual([active]);
        await expectEveryValueResolves(restarted.url, token, values);
      } finally {
        await stop(restarted.child);
      }
      await expectLedgerIntact(config);
    } finally {
      data.cleanup();
    }
  });
});
