import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICE_ENVIRONMENT } from '../../src/cli/environment-help';
import { ConfigError, loadConfig, POSTGRES_LIMIT_DEFAULTS, POSTGRES_LIMIT_VARIABLES } from '../../src/config/configuration';
import { loadKeyring } from '../../src/crypto/master-keyring';

const key = () => randomBytes(32).toString('base64');

/** An Ed25519 signing key file, as `openssl genpkey -algorithm ed25519` writes it. */
const signingKeyDir = mkdtempSync(join(tmpdir(), 'secrets-ledger-signing-'));
const SIGNING_KEY_FILE = join(signingKeyDir, 'signing-key.pem');
writeFileSync(SIGNING_KEY_FILE, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
afterAll(() => rmSync(signingKeyDir, { recursive: true, force: true }));
const signing = { SECRETS_SIGNING_KEY_FILE: SIGNING_KEY_FILE };

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
    expect(loadConfig({})).toMatchObject({ port: 3000, host: '127.0.0.1', nats: { url: 'nats://127.0.0.1:4222' }, natsPrefix: 'secrets', tls: undefined, logLevel: 'info', masterKeys: [] });
    expect(loadConfig({}).databasePath).toMatch(/data\/secrets\.db$/);
    expect(loadConfig({})).toMatchObject({ metricsHost: '127.0.0.1', metricsPort: 9464 });
  });

  it('DATABASE_URL: unset is SQLite in the data dir; a postgres:// URL is PostgreSQL; anything else is a problem that does not repeat the URL', () => {
    expect(loadConfig({}).databaseUrl).toBeUndefined();
    const keys = { SECRETS_MASTER_KEYS: `k1:${key()}`, ...signing };
    expect(loadConfig({ ...keys, DATABASE_URL: 'postgres://ledger@db.internal:5432/secrets' }).databaseUrl).toBe('postgres://ledger@db.internal:5432/secrets');
    expect(loadConfig({ ...keys, DATABASE_URL: 'postgresql:///secrets?host=/run/postgresql' }).databaseUrl).toBe('postgresql:///secrets?host=/run/postgresql');
    for (const bad of ['mysql://root:pw-0451@db/secrets', 'postgres:/pw-0451', 'pw-0451']) {
      const problems = problemsOf({ DATABASE_URL: bad, SECRETS_MASTER_KEYS: `k1:${key()}`, ...signing });
      expect(problems).toEqual([expect.stringMatching(/^DATABASE_URL must be a PostgreSQL URL/)]);
      expect(problems.join('\n')).not.toContain('pw-0451');
    }
  });

  it('DATABASE_URL without SECRETS_MASTER_KEYS is refused: instances sharing a database must share their keys', () => {
    expect(problemsOf({ DATABASE_URL: 'postgres://ledger@db/secrets', ...signing })).toEqual([expect.stringMatching(/^DATABASE_URL needs SECRETS_MASTER_KEYS/)]);
    expect(problemsOf({ DATABASE_URL: 'postgres://ledger@db/secrets', SECRETS_MASTER_KEYS: `k1:${key()}`, ...signing })).toEqual([]);
  });

  it('DATABASE_URL without SECRETS_SIGNING_KEY_FILE is refused: every instance must sign checkpoints with one key', () => {
    expect(problemsOf({ DATABASE_URL: 'postgres://ledger@db/secrets', SECRETS_MASTER_KEYS: `k1:${key()}` })).toEqual([
      expect.stringMatching(/^DATABASE_URL needs SECRETS_SIGNING_KEY_FILE/),
    ]);
  });

  it('checkpoints: documented defaults; each setting overridable; a sink that cannot work is a problem that does not repeat it', () => {
    expect(loadConfig({}).checkpoints).toEqual({ signingKeyFile: undefined, everyEvents: 1000, intervalMs: 300_000, sink: undefined });
    expect(loadConfig({ SECRETS_CHECKPOINT_EVENTS: '5', SECRETS_CHECKPOINT_INTERVAL_MS: '250', SECRETS_CHECKPOINT_SINK: 'file:/var/audit/checkpoints.jsonl' }).checkpoints).toMatchObject({
      everyEvents: 5,
      intervalMs: 250,
      sink: { kind: 'file', path: '/var/audit/checkpoints.jsonl' },
    });
    expect(loadConfig({ SECRETS_CHECKPOINT_SINK: 'https://audit.example/checkpoints', SECRETS_CHECKPOINT_SINK_CA_FILE: __filename }).checkpoints.sink).toEqual({
      kind: 'https',
      url: 'https://audit.example/checkpoints',
      caFile: __filename,
    });
    for (const sink of ['http://user:pw-0451@audit.example/', 'file:relative/pw-0451', 'pw-0451']) {
      const problems = problemsOf({ SECRETS_CHECKPOINT_SINK: sink });
      expect(problems).toEqual([expect.stringMatching(/^SECRETS_CHECKPOINT_SINK/)]);
      if (!sink.startsWith('file:')) expect(problems.join('\n')).not.toContain('pw-0451');
    }
    expect(problemsOf({ SECRETS_CHECKPOINT_EVENTS: '0', SECRETS_SIGNING_KEY_FILE: '/nonexistent/key.pem' })).toEqual([
      'SECRETS_SIGNING_KEY_FILE: cannot read /nonexistent/key.pem',
      'SECRETS_CHECKPOINT_EVENTS must be a positive integer, got "0"',
    ]);
  });

  it('METRICS_PORT=0 turns the metrics listener off; a port that is not one is a problem', () => {
    expect(loadConfig({ METRICS_PORT: '0', METRICS_HOST: '0.0.0.0' })).toMatchObject({ metricsHost: '0.0.0.0', metricsPort: 0 });
    expect(problemsOf({ METRICS_PORT: '99999' })).toEqual([expect.stringMatching(/^METRICS_PORT must be an integer from 0 to 65535/)]);
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

  it('never repeats a credential from NATS_URL in a problem', () => {
    const problems = problemsOf({ NATS_URL: 'nats://ledger:hunter2-secret@127.0.0.1:4222/extra path' });
    expect(problems).toEqual([expect.stringMatching(/NATS_URL must look like/)]);
    expect(problems.join('\n')).not.toContain('hunter2-secret');
    // The same URL's shape is fine without the junk: credentials in a URL are allowed, only never shown.
    expect(problemsOf({ NATS_URL: 'nats://ledger:hunter2-secret@127.0.0.1:4222' })).toEqual([]);
  });

  it.each([
    [{ NATS_USER: 'ledger' }, /NATS_USER and NATS_PASSWORD go together/],
    [{ NATS_USER: 'u', NATS_PASSWORD: 'p', NATS_TOKEN: 't' }, /choose one NATS authentication/],
    [{ NATS_CREDS_FILE: '/nonexistent/ledger.creds' }, /NATS_CREDS_FILE: cannot read \/nonexistent\/ledger\.creds/],
    [{ NATS_TLS_CERT_FILE: __filename }, /NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE go together/],
    [{ SECRETS_NATS_PREFIX: 'secrets.>' }, /SECRETS_NATS_PREFIX must be NATS subject tokens/],
    [{ SECRETS_NATS_PREFIX: 'two words' }, /SECRETS_NATS_PREFIX/],
    [{ TLS_CERT_FILE: __filename }, /TLS_CERT_FILE and TLS_KEY_FILE go together/],
  ])('refuses NATS and TLS settings that cannot work: %j', (env, problem) => {
    expect(problemsOf(env)).toEqual([expect.stringMatching(problem)]);
  });

  it('in production, refuses plain HTTP on an address other machines reach, unless a TLS proxy is declared', () => {
    const production = { NODE_ENV: 'production', SECRETS_MASTER_KEYS: `k1:${key()}`, ...signing };
    expect(problemsOf({ ...production, HOST: '0.0.0.0' })).toEqual([expect.stringMatching(/HOST=0\.0\.0\.0 is reachable from other machines.*TLS_CERT_FILE/)]);
    expect(problemsOf({ ...production, HOST: '0.0.0.0', SECRETS_ALLOW_PLAIN_HTTP: 'true' })).toEqual([]);
    expect(problemsOf({ ...production, HOST: '0.0.0.0', TLS_CERT_FILE: __filename, TLS_KEY_FILE: __filename })).toEqual([]);
    for (const host of ['127.0.0.1', '127.8.0.3', 'localhost', '::1']) expect(problemsOf({ ...production, HOST: host })).toEqual([]);
    // Outside production a developer may listen wide on plain HTTP.
    expect(problemsOf({ HOST: '0.0.0.0' })).toEqual([]);
  });

  it('HTTP limits: documented defaults, each overridable, nonsense refused one line each', () => {
    expect(loadConfig({}).http).toEqual({
      rateLimitPerMinute: 6000,
      authFailuresPerMinute: 30,
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      maxConnections: 4096,
      maxConnectionsPerAddress: 256,
      unauthenticatedIdleMs: 5_000,
      keepAliveTimeoutMs: 72_000,
    });
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

  it('PostgreSQL limits: defaults of a few seconds, each overridable, nonsense refused one line each, each in `serve --help` and SPEC §7', () => {
    expect(loadConfig({}).postgres).toEqual(POSTGRES_LIMIT_DEFAULTS);
    for (const ms of Object.values(POSTGRES_LIMIT_DEFAULTS)) expect(ms).toBeGreaterThanOrEqual(1_000);
    for (const ms of Object.values(POSTGRES_LIMIT_DEFAULTS)) expect(ms).toBeLessThanOrEqual(10_000);
    expect(loadConfig({ SECRETS_PG_LOCK_TIMEOUT_MS: '250', SECRETS_PG_STATEMENT_TIMEOUT_MS: '60000' }).postgres).toMatchObject({ lockTimeoutMs: 250, statementTimeoutMs: 60_000 });
    expect(problemsOf({ SECRETS_PG_CONNECT_TIMEOUT_MS: '0', SECRETS_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: '5s' })).toEqual([
      'SECRETS_PG_CONNECT_TIMEOUT_MS must be a positive integer, got "0"',
      'SECRETS_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS must be a positive integer, got "5s"',
    ]);
    const help = SERVICE_ENVIRONMENT.map(([names]) => names).join(', ');
    const spec = readFileSync(join(__dirname, '../../docs/SPEC.md'), 'utf8');
    const variables = Object.values(POSTGRES_LIMIT_VARIABLES);
    expect(variables).toHaveLength(5);
    for (const variable of variables) {
      expect(help).toContain(variable);
      expect(spec).toContain(`| \`${variable}\` |`);
    }
  });

  it('connection limits: the per-address share is a share of the cap, the unauthenticated idle limit the shorter one', () => {
    expect(loadConfig({ SECRETS_MAX_CONNECTIONS_PER_ADDRESS: '32', SECRETS_UNAUTHENTICATED_IDLE_MS: '2000', SECRETS_KEEP_ALIVE_TIMEOUT_MS: '30000' }).http).toMatchObject({
      maxConnectionsPerAddress: 32,
      unauthenticatedIdleMs: 2000,
      keepAliveTimeoutMs: 30_000,
    });
    // A cap set alone below the default share takes the share down with it.
    expect(loadConfig({ SECRETS_MAX_CONNECTIONS: '64' }).http).toMatchObject({ maxConnections: 64, maxConnectionsPerAddress: 64 });
    expect(problemsOf({ SECRETS_MAX_CONNECTIONS: '64', SECRETS_MAX_CONNECTIONS_PER_ADDRESS: '65' })).toEqual([
      'SECRETS_MAX_CONNECTIONS_PER_ADDRESS must not exceed SECRETS_MAX_CONNECTIONS (it is a share of them)',
    ]);
    expect(problemsOf({ SECRETS_UNAUTHENTICATED_IDLE_MS: '10000', SECRETS_KEEP_ALIVE_TIMEOUT_MS: '5000' })).toEqual([
      'SECRETS_UNAUTHENTICATED_IDLE_MS must not exceed SECRETS_KEEP_ALIVE_TIMEOUT_MS (an authenticated connection is never held for less)',
    ]);
    expect(problemsOf({ SECRETS_MAX_CONNECTIONS_PER_ADDRESS: '0', SECRETS_UNAUTHENTICATED_IDLE_MS: '5s' })).toEqual([
      'SECRETS_MAX_CONNECTIONS_PER_ADDRESS must be a positive integer, got "0"',
      'SECRETS_UNAUTHENTICATED_IDLE_MS must be a positive integer, got "5s"',
    ]);
  });

  it('refuses to start in production without master keys or a signing key', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      expect.stringMatching(/SECRETS_MASTER_KEYS is required/),
      expect.stringMatching(/^SECRETS_SIGNING_KEY_FILE is required when NODE_ENV=production/),
    ]);
    expect(problemsOf({ NODE_ENV: 'production', SECRETS_MASTER_KEYS: `k1:${key()}`, ...signing })).toEqual([]);
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

  it('reads the expiry policy: a whole number of warning days, refusal only when asked', () => {
    expect(loadConfig({}).expiry).toEqual({ warningDays: 14, refuseExpired: false });
    expect(loadConfig({ SECRETS_EXPIRY_WARNING_DAYS: '0', SECRETS_REFUSE_EXPIRED: 'true' }).expiry).toEqual({ warningDays: 0, refuseExpired: true });
    expect(problemsOf({ SECRETS_EXPIRY_WARNING_DAYS: '1.5', SECRETS_REFUSE_EXPIRED: 'yes' })).toEqual([
      'SECRETS_EXPIRY_WARNING_DAYS must be a whole number of days from 0 to 9999, got "1.5"',
      'SECRETS_REFUSE_EXPIRED must be true or false, got "yes"',
    ]);
  });
});
