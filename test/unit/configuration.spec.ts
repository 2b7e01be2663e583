import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/configuration';
import { loadKeyring } from '../../src/crypto/master-keyring';

const key = () => randomBytes(32).toString('base64');

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('configuration (SPEC §7)', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({ port: 3000, host: '127.0.0.1', natsUrl: 'nats://127.0.0.1:4222', logLevel: 'info', masterKeys: [] });
    expect(loadConfig({}).databasePath).toMatch(/data\/secrets\.db$/);
  });

  it('reports every problem, one line each', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      NATS_URL: 'http://x',
      LOG_LEVEL: 'loud',
      SECRETS_ADMIN_TOKEN: 'short',
      SECRETS_MASTER_KEYS: `a:${key()},a:${key()},b:c2hvcnQ=,nokey`,
    });
    expect(problems).toHaveLength(7);
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/appears twice/);
    expect(problems.join('\n')).toMatch(/exactly 32 bytes/);
    expect(problems.every((p) => !p.includes('\n'))).toBe(true);
  });

  it('refuses to start in production without master keys', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([expect.stringMatching(/SECRETS_MASTER_KEYS is required/)]);
    expect(problemsOf({ NODE_ENV: 'production', SECRETS_MASTER_KEYS: `k1:${key()}` })).toEqual([]);
  });

  it('takes the first configured key as the active one', () => {
    const config = loadConfig({ SECRETS_MASTER_KEYS: `new:${key()}, old:${key()}` });
    expect(config.masterKeys.map((k) => k.kid)).toEqual(['new', 'old']);
    expect(loadKeyring(config.masterKeys, '/nonexistent').activeKid).toBe('new');
  });

  it('outside production, generates a development key file with mode 0600 and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyring-'));
    try {
      const first = loadKeyring([], dir);
      expect(first.devKeyFile).toBe(join(dir, 'master-keys.dev'));
      expect(statSync(first.devKeyFile!).mode & 0o777).toBe(0o600);
      const dataKey = randomBytes(32);
      const wrapped = first.wrap(dataKey, 'evt-1');
      const again = loadKeyring([], dir, true);
      expect(again.unwrap(wrapped.kid, wrapped.wrapped, 'evt-1')).toEqual(dataKey);
      // No temporary file is left beside it.
      expect(readdirSync(dir)).toEqual(['master-keys.dev']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never generates a new key file for a store that already holds values: that would hide their loss', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyring-'));
    try {
      expect(() => loadKeyring([], dir, true)).toThrow(/master-keys\.dev is missing, but the database holds values/);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
