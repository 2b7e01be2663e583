import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import type { AppConfig, MasterKeySpec } from '../../src/config/configuration';
import { DEV_KEY_FILE } from '../../src/crypto/master-keyring';
import { runCli } from '../support/cli';
import { filesContaining, openDatabase } from '../support/data-dir';
import { ADMIN_TOKEN, startTestApp, tempDataDir, testConfig } from '../support/test-app';

const SECRETS: Record<string, string> = {
  CVAT_URL: `rotation-url-${randomBytes(8).toString('hex')}`,
  CVAT_PASSWORD: `rotation-pw-${randomBytes(8).toString('hex')}`,
  S3_KEY: `rotation-s3-${randomBytes(8).toString('hex')}`,
};

const masterKey = (kid: string): MasterKeySpec => ({ kid, key: randomBytes(32) });
const envKeys = (keys: MasterKeySpec[]) => keys.map((k) => `${k.kid}:${k.key.toString('base64')}`).join(',');

function query<T>(config: AppConfig, sql: string): T[] {
  const db = openDatabase(config.databasePath);
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}
const eventRows = (config: AppConfig) => query<Record<string, unknown>>(config, 'SELECT * FROM events ORDER BY seq');
const kidsInUse = (config: AppConfig) => query<{ kid: string }>(config, 'SELECT DISTINCT kid FROM data_keys').map((r) => r.kid);

/** Adds the secrets, each with an older version too, so several data keys exist per key. */
async function seed(config: AppConfig): Promise<void> {
  const t = await startTestApp(config);
  try {
    for (const [key, value] of Object.entries(SECRETS)) {
      await t.request('/api/v1/secrets', { method: 'POST', json: { key, value: `${value}-old` } });
      await t.request(`/api/v1/secrets/${key}`, { method: 'PATCH', json: { value } });
    }
  } finally {
    await t.close();
  }
}

/** Every secret resolves to its current value with the keyring `config` carries. */
async function expectAllResolve(config: AppConfig): Promise<void> {
  const t = await startTestApp(config);
  try {
    const executor = await t.app.get(TokensService).issue({ name: 'runner', role: 'executor', plugins: null }, SYSTEM_ACTOR);
    const res = await t.request('/api/v1/resolve', { method: 'POST', token: executor.token, json: { plugin: 'p', keys: Object.keys(SECRETS) } });
    expect(res.status).toBe(200);
    expect((await res.json()).secrets).toEqual(SECRETS);
    expect((await (await t.request('/api/v1/audit/verify')).json()).ok).toBe(true);
  } finally {
    await t.close();
  }
}

describe('secrets-ledger rotate-master-key', () => {
  it('with SECRETS_MASTER_KEYS: rewraps every data key under the new first key; the log is untouched but for one event', async () => {
    const data = tempDataDir();
    try {
      const [oldKey, newKey] = [masterKey('old-1'), masterKey('new-2')];
      const before = testConfig(data.dir, { masterKeys: [oldKey] });
      await seed(before);
      const rowsBefore = eventRows(before);
      expect(kidsInUse(before)).toEqual(['old-1']);

      const run = runCli(['rotate-master-key'], {
        SECRETS_DATA_DIR: data.dir,
        SECRETS_MASTER_KEYS: envKeys([newKey, oldKey]),
        SECRETS_ADMIN_TOKEN: ADMIN_TOKEN,
      });
      // Only the line naming the database it used: no warning, no error.
      expect(run.stderr).toBe(`secrets-ledger: using the database ${before.databasePath}\n`);
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/rewrapped 6 data keys from \[old-1\] to new-2/);
      expect(run.stdout).toMatch(/no data key uses old-1 any more: it may be retired/);

      const rowsAfter = eventRows(before);
      expect(rowsAfter.slice(0, rowsBefore.length)).toEqual(rowsBefore);
      expect(rowsAfter).toHaveLength(rowsBefore.length + 1);
      const rotated = rowsAfter[rowsAfter.length - 1];
      expect(rotated.type).toBe('MasterKeyRotated');
      expect(JSON.parse(rotated.data as string)).toEqual({ from: ['old-1'], to: 'new-2', rewrapped: 6 });
      expect(kidsInUse(before)).toEqual(['new-2']);

      // The old key retired: the new one alone opens everything.
      await expectAllResolve(testConfig(data.dir, { masterKeys: [newKey] }));
      for (const value of Object.values(SECRETS)) {
        expect(run.stdout).not.toContain(value);
        expect(filesContaining(data.dir, value)).toEqual([]);
      }
    } finally {
      data.cleanup();
    }
  });

  it('with the development key file: generates a new key, puts it first, and rewraps under it', async () => {
    const data = tempDataDir();
    try {
      const config = testConfig(data.dir, { masterKeys: [] });
      await seed(config);
      expect(kidsInUse(config)).toEqual(['dev-1']);

      const run = runCli(['rotate-master-key'], { SECRETS_DATA_DIR: data.dir, SECRETS_ADMIN_TOKEN: ADMIN_TOKEN });
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/generated master key dev-2/);
      expect(run.stdout).toMatch(/no data key uses dev-1 any more/);
      const keyFile = readFileSync(join(data.dir, DEV_KEY_FILE), 'utf8').trim().split('\n');
      expect(keyFile.map((line) => line.split(':')[0])).toEqual(['dev-2', 'dev-1']);
      expect(kidsInUse(config)).toEqual(['dev-2']);
      await expectAllResolve(config);
    } finally {
      data.cleanup();
    }
  });

  it('refuses, changing nothing, when a data key is wrapped by a key that is not configured', async () => {
    const data = tempDataDir();
    try {
      const [lost, current] = [masterKey('lost-1'), masterKey('current-2')];
      const config = testConfig(data.dir, { masterKeys: [lost] });
      await seed(config);
      const rowsBefore = eventRows(config);
      const run = runCli(['rotate-master-key'], { SECRETS_DATA_DIR: data.dir, SECRETS_MASTER_KEYS: envKeys([current]), SECRETS_ADMIN_TOKEN: ADMIN_TOKEN });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/master key "lost-1" is not configured/);
      expect(kidsInUse(config)).toEqual(['lost-1']);
      expect(eventRows(config)).toEqual(rowsBefore);
    } finally {
      data.cleanup();
    }
  });
});
