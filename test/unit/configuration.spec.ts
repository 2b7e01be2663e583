import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
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

  it('HTTP limits: documented defaults, each overridable, nonsense refused one line each', () => {
    expect(loadConfig({}).http).toEqual({ rateLimitPerMinute: 6000, authFailuresPerMinute: 30, requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, maxConnections: 4096 });
    expect(loadConfig({ SECRETS_RATE_LIMIT_PER_MINUTE: '120', SECRETS_AUTH_FAILURES_PER_MINUTE: '5', SECRETS_MAX_CONNECTIONS: '64' }).http).toMatchObject({
      rateLimitPerMinute: 120,
      authFailuresPerMinute: 5,
      maxConnections: 64,
    });
    expect(problemsOf({ SECRETS_RATE_LIMIT_PER_MINUTE: '0', SECRETS_AUTH_FAILURES_PER_MINUTE: 'many', SECRETS_REQUEST_TIMEOUT_MS: '-1' })).toEqual([
      'SECRETS_RATE_LIMIT_PER_MINUTE must be a positive integer, got "0"',
      'SECRETS_AUTH_FAILURES_PER_MINUTE must be a positive integer, got "many"',
      'SECRETS_REQUEST_TIMEOUT_MS must be a positive integer, got "-1"',
    ]);
    expect(problemsOf({ SECRETS_HEADERS_TIMEOUT_MS: '20000', SECRETS_REQUEST_TIMEOUT_MS: '10000' })).toEqual([
      'SECRETS_HEADERS_TIMEOUT_MS must not exceed SECRETS_REQUEST_TIMEOUT_MS (the headers are part of the request)',
    ]);
  });

  it('refuses to start in production without master keys', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([expect.stringMatching(/SECRETS_MASTER_KEYS is required/)]);
    expect(problemsOf({ NODE_ENV: 'production', SECRETS_MASTER_KEYS: `k1:${key()}` })).toEqual([]);
  });

  it('takes the first configured key as the active one', () => {
    const config = loadConfig({ SECRETS_MASTER_KEYS: `new:${key()}, old:${key()}` });
    expect(config.masterKeys.map((k) => k.kid)).toEqual(['new', 'old']);
    expect(loadKeyring(config.masterKeys, '/nonexistent').keyring.activeKid).toBe('new');
  });

  it('outside production, generates a development key file with mode 0600 and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyring-'));
    try {
      const first = loadKeyring([], dir);
      expect(first.generatedFile).toBe(join(dir, 'master-keys.dev'));
      expect(statSync(first.generatedFile!).mode & 0o777).toBe(0o600);
      const dataKey = randomBytes(32);
      const wrapped = first.keyring.wrap(dataKey, 'evt-1');
      const again = loadKeyring([], dir);
      expect(again.keyring.unwrap(wrapped.kid, wrapped.wrapped, 'evt-1')).toEqual(dataKey);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
