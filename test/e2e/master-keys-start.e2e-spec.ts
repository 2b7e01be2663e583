import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEV_KEY_FILE } from '../../src/crypto/master-keyring';
import { runCliToEnd, spawnCli, startServe, stop } from '../support/cli';
import { openDatabase } from '../support/data-dir';
import { signingKeyFile } from '../support/signing-key';
import { ADMIN_TOKEN, startTestApp, tempDataDir, testConfig } from '../support/test-app';

const newKey = (kid: string) => `${kid}:${randomBytes(32).toString('base64')}`;

jest.setTimeout(120_000);

/**
 * Moving a SQLite service off the development key file (docs/MASTER-KEYS.md): a start whose
 * SECRETS_MASTER_KEYS lacks the key of stored values refuses, naming the key id, before it
 * answers anything; the file's lines, joined with commas, are the variable that works.
 */
describe('a SQLite service started with SECRETS_MASTER_KEYS after the development key file', () => {
  const data = tempDataDir();
  const value = `dev-sealed-${randomBytes(8).toString('hex')}`;
  // A signing key of its own, so that what stderr holds is the master keys' answer alone (the
  // development signing key's banner is not what this suite is about).
  const env = { SECRETS_DATA_DIR: data.dir, SECRETS_ADMIN_TOKEN: ADMIN_TOKEN, SECRETS_SIGNING_KEY_FILE: signingKeyFile(data.dir), LOG_LEVEL: 'warn', PORT: '0', METRICS_PORT: '0' };
  const kids = () => (openDatabase(join(data.dir, 'secrets.db')).prepare('SELECT DISTINCT kid FROM data_keys ORDER BY kid').all() as { kid: string }[]).map((r) => r.kid);

  beforeAll(async () => {
    const t = await startTestApp(testConfig(data.dir, { masterKeys: [] }));
    try {
      expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'DEV_SEALED', value } })).status).toBe(201);
    } finally {
      await t.close();
    }
  });
  afterAll(() => data.cleanup());

  it('refuses to start, in one line naming the key id it lacks, when the variable holds a new key only', async () => {
    const started = await runCliToEnd(['serve'], { ...env, SECRETS_MASTER_KEYS: newKey('prod-1') });
    expect(started.status).toBe(1);
    expect(started.stdout).not.toMatch(/listening/);
    const lines = started.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^secrets-ledger: refusing to start: stored values are wrapped by master key id dev-1, which SECRETS_MASTER_KEYS lacks/);
    expect(kids()).toEqual(['dev-1']);
  });

  it('starts with the key file joined into the variable, and a new key put first is retired to after one rotation', async () => {
    // `paste -sd, master-keys.dev`: the file's kid:key lines, newest first, joined with commas.
    const fromFile = readFileSync(join(data.dir, DEV_KEY_FILE), 'utf8').trim().split('\n').join(',');
    const keys = `${newKey('prod-1')},${fromFile}`;
    const server = await startServe({ ...env, SECRETS_MASTER_KEYS: keys });
    try {
      const rotated = await spawnCli(['rotate-master-key'], { ...env, SECRETS_MASTER_KEYS: keys }).done;
      expect(rotated.stdout).toMatch(/rewrapped 1 data keys from \[dev-1\] to prod-1/);
      expect(rotated.stdout).toMatch(/no data key uses dev-1 any more: it may be retired/);
      const t = await fetch(`${server.url}/api/v1/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'moved', role: 'executor' }),
      });
      const executor = ((await t.json()) as { token: string }).token;
      const resolved = await fetch(`${server.url}/api/v1/resolve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${executor}`, 'content-type': 'application/json' },
        body: JSON.stringify({ plugin: 'p', keys: ['DEV_SEALED'] }),
      });
      expect(await resolved.json()).toMatchObject({ secrets: { DEV_SEALED: value }, unreadable: [] });
    } finally {
      await stop(server.child);
    }
    expect(kids()).toEqual(['prod-1']);
  });
});

describe('the start-up check on an in-process app (createApp)', () => {
  it('refuses a new key under the id of the old one (testConfig makes a new test-1 each time)', async () => {
    const data = tempDataDir();
    try {
      const t = await startTestApp(testConfig(data.dir));
      expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'K', value: 'v' } })).status).toBe(201);
      await t.close();
      await expect(startTestApp(testConfig(data.dir))).rejects.toThrow(/the key SECRETS_MASTER_KEYS gives for test-1 opens none of the stored values wrapped under that id/);
    } finally {
      data.cleanup();
    }
  });

  it('a SQLite service records its keys once at start and does not rewrite the row on a heartbeat (nobody else reads it)', async () => {
    const data = tempDataDir();
    try {
      const t = await startTestApp(testConfig(data.dir));
      const row = () => openDatabase(join(data.dir, 'secrets.db')).prepare('SELECT instance, held_kids, expires_at FROM master_key_holders').all();
      try {
        const atStart = row();
        // Control: the row is there, holding the keyring's key id.
        expect(atStart).toEqual([expect.objectContaining({ held_kids: expect.stringContaining('test-1') })]);
        // More than one heartbeat interval (2 s) later, not renewed: no disk sync every 2 s.
        await new Promise((resolve) => setTimeout(resolve, 2_600));
        expect(row()).toEqual(atStart);
      } finally {
        await t.close();
      }
    } finally {
      data.cleanup();
    }
  });
});
