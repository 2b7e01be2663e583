import { isAbsolute, resolve } from 'node:path';
import { NatsOptions, natsOptionsFromEnv, readableFile } from '../nats/nats-options';

/**
 * SPEC §7. Parsed once at boot from the environment; every problem is collected so that an
 * operator fixes them all in one go instead of one restart per mistake.
 */
export interface MasterKeySpec {
  kid: string;
  key: Buffer;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface AppConfig {
  port: number;
  host: string;
  dataDir: string;
  /** SQLite's file in the data dir: the database unless `databaseUrl` is set. */
  databasePath: string;
  /** DATABASE_URL: PostgreSQL, which several instances may share (SPEC §8). */
  databaseUrl: string | undefined;
  nats: NatsOptions;
  /** SECRETS_NATS_PREFIX: subjects are `<prefix>.changed.<KEY>`. */
  natsPrefix: string;
  /** Both set: the service serves HTTPS itself. */
  tls: { certFile: string; keyFile: string } | undefined;
  /** Empty when the keys are to come from the generated dev key file (never in production). */
  masterKeys: MasterKeySpec[];
  adminToken: string | undefined;
  logLevel: LogLevel;
  production: boolean;
  /** The Prometheus listener; port 0 turns it off. */
  metricsHost: string;
  metricsPort: number;
  /** The HTTP edge (SPEC §2 limits, §3): see src/http. */
  http: HttpLimits;
  /** How long PostgreSQL may keep a request waiting (SPEC §7): see src/storage/postgres. */
  postgres: PostgresLimits;
  /** The change stream's limits (SPEC §3, `GET /changes`): see src/changes. */
  streams: StreamLimits;
}

export interface HttpLimits {
  /** Requests a minute each token may make. */
  rateLimitPerMinute: number;
  /** Failed authentications a minute from one client address before they are answered 429. */
  authFailuresPerMinute: number;
  /** The whole request, headers and body, must arrive within this (408 otherwise). */
  requestTimeoutMs: number;
  /** The headers must arrive within this. */
  headersTimeoutMs: number;
  /** Open connections at most; further ones are closed at once. */
  maxConnections: number;
  /** Open connections from one client address (an IPv6 /64) at most; further ones are closed at once. */
  maxConnectionsPerAddress: number;
  /** How long a connection that carried no authenticated request may sit idle. */
  unauthenticatedIdleMs: number;
  /** How long a connection whose last request was authenticated may sit idle (keep-alive). */
  keepAliveTimeoutMs: number;
}

export const HTTP_LIMIT_DEFAULTS: HttpLimits = {
  rateLimitPerMinute: 6000,
  authFailuresPerMinute: 30,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  maxConnections: 4096,
  maxConnectionsPerAddress: 256,
  unauthenticatedIdleMs: 5_000,
  keepAliveTimeoutMs: 72_000,
};

const HTTP_LIMIT_VARIABLES: Record<keyof HttpLimits, string> = {
  rateLimitPerMinute: 'SECRETS_RATE_LIMIT_PER_MINUTE',
  authFailuresPerMinute: 'SECRETS_AUTH_FAILURES_PER_MINUTE',
  requestTimeoutMs: 'SECRETS_REQUEST_TIMEOUT_MS',
  headersTimeoutMs: 'SECRETS_HEADERS_TIMEOUT_MS',
  maxConnections: 'SECRETS_MAX_CONNECTIONS',
  maxConnectionsPerAddress: 'SECRETS_MAX_CONNECTIONS_PER_ADDRESS',
  unauthenticatedIdleMs: 'SECRETS_UNAUTHENTICATED_IDLE_MS',
  keepAliveTimeoutMs: 'SECRETS_KEEP_ALIVE_TIMEOUT_MS',
};

export interface StreamLimits {
  /** Change streams one token may hold open on an instance. */
  perToken: number;
  /** Change streams an instance holds open in all. */
  total: number;
  /** The longest a stream stays silent: a comment line goes out after this much quiet. */
  heartbeatMs: number;
  /** Bytes a stream's reader may leave unread before it is disconnected (it resumes from its last id). */
  maxUnsentBytes: number;
}

export const STREAM_LIMIT_DEFAULTS: StreamLimits = {
  perToken: 64,
  total: 1024,
  heartbeatMs: 15_000,
  maxUnsentBytes: 1024 * 1024,
};

const STREAM_LIMIT_VARIABLES: Record<keyof StreamLimits, string> = {
  perToken: 'SECRETS_STREAMS_PER_TOKEN',
  total: 'SECRETS_MAX_STREAMS',
  heartbeatMs: 'SECRETS_STREAM_HEARTBEAT_MS',
  maxUnsentBytes: 'SECRETS_STREAM_MAX_UNSENT_BYTES',
};

/**
 * Every wait on PostgreSQL has an end, enforced by the server where it can be (a statement, a
 * lock wait, a transaction left idle are rolled back there, so nothing the client was told
 * failed commits later) and by the driver where nothing was sent yet (connecting, a free
 * connection). A request that reaches one is a 503 with Retry-After.
 */
export interface PostgresLimits {
  /** Establishing a new connection. */
  connectTimeoutMs: number;
  /** Waiting for a free connection of the pool (connecting a new one included). */
  acquireTimeoutMs: number;
  /** Waiting for a lock, the log's append lock among them (PostgreSQL's lock_timeout). */
  lockTimeoutMs: number;
  /** One statement (statement_timeout). */
  statementTimeoutMs: number;
  /** A transaction left open with nothing running (idle_in_transaction_session_timeout): a frozen instance's lock goes. */
  idleInTransactionTimeoutMs: number;
}

export const POSTGRES_LIMIT_DEFAULTS: PostgresLimits = {
  connectTimeoutMs: 5_000,
  acquireTimeoutMs: 5_000,
  lockTimeoutMs: 5_000,
  statementTimeoutMs: 10_000,
  // Below the lock limit: an instance frozen inside its batch loses its session (and the append
  // lock) before the other instances' writes give up waiting for it.
  idleInTransactionTimeoutMs: 4_000,
};

export const POSTGRES_LIMIT_VARIABLES: Record<keyof PostgresLimits, string> = {
  connectTimeoutMs: 'SECRETS_PG_CONNECT_TIMEOUT_MS',
  acquireTimeoutMs: 'SECRETS_PG_ACQUIRE_TIMEOUT_MS',
  lockTimeoutMs: 'SECRETS_PG_LOCK_TIMEOUT_MS',
  statementTimeoutMs: 'SECRETS_PG_STATEMENT_TIMEOUT_MS',
  idleInTransactionTimeoutMs: 'SECRETS_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS',
};

/** `defaults`, each overridden by its variable when set; anything but a positive integer is a problem. */
function positiveIntegers<T extends object>(env: NodeJS.ProcessEnv, defaults: T, variables: Record<keyof T, string>, problems: string[]): T {
  const values = { ...defaults };
  for (const [field, variable] of Object.entries(variables) as [keyof T, string][]) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    const value = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= 1)) problems.push(`${variable} must be a positive integer, got "${raw}"`);
    else values[field] = value as T[keyof T];
  }
  return values;
}

function parseHttpLimits(env: NodeJS.ProcessEnv, problems: string[]): HttpLimits {
  const limits = positiveIntegers(env, HTTP_LIMIT_DEFAULTS, HTTP_LIMIT_VARIABLES, problems);
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    problems.push('SECRETS_HEADERS_TIMEOUT_MS must not exceed SECRETS_REQUEST_TIMEOUT_MS (the headers are part of the request)');
  }
  if (limits.maxConnectionsPerAddress > limits.maxConnections) {
    // The default share under a lower cap set alone is simply the cap.
    if (env.SECRETS_MAX_CONNECTIONS_PER_ADDRESS) problems.push('SECRETS_MAX_CONNECTIONS_PER_ADDRESS must not exceed SECRETS_MAX_CONNECTIONS (it is a share of them)');
    else limits.maxConnectionsPerAddress = limits.maxConnections;
  }
  if (limits.unauthenticatedIdleMs > limits.keepAliveTimeoutMs) {
    problems.push('SECRETS_UNAUTHENTICATED_IDLE_MS must not exceed SECRETS_KEEP_ALIVE_TIMEOUT_MS (an authenticated connection is never held for less)');
  }
  return limits;
}

function parseStreamLimits(env: NodeJS.ProcessEnv, problems: string[]): StreamLimits {
  const limits = positiveIntegers(env, STREAM_LIMIT_DEFAULTS, STREAM_LIMIT_VARIABLES, problems);
  if (limits.perToken > limits.total) {
    if (env.SECRETS_STREAMS_PER_TOKEN) problems.push('SECRETS_STREAMS_PER_TOKEN must not exceed SECRETS_MAX_STREAMS (it is a share of them)');
    else limits.perToken = limits.total;
  }
  return limits;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const KID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export function parseMasterKeys(raw: string, problems: string[]): MasterKeySpec[] {
  const keys: MasterKeySpec[] = [];
  const seen = new Set<string>();
  raw
    .split(',')
    .map((entry) => entry.trim())
    .forEach((entry, index) => {
      const colon = entry.indexOf(':');
      const where = `SECRETS_MASTER_KEYS entry ${index + 1}`;
      if (colon <= 0) {
        problems.push(`${where}: expected kid:base64key`);
        return;
      }
      const kid = entry.slice(0, colon);
      const encoded = entry.slice(colon + 1);
      if (!KID_PATTERN.test(kid)) {
        problems.push(`${where}: key id must be 1-64 characters of A-Z a-z 0-9 . _ -`);
        return;
      }
      if (seen.has(kid)) {
        problems.push(`${where}: key id "${kid}" appears twice`);
        return;
      }
      const key = Buffer.from(encoded, 'base64');
      // Buffer.from ignores junk silently; a round trip shows whether the text was base64.
      if (key.length !== 32 || key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
        problems.push(`${where} ("${kid}"): key must be exactly 32 bytes, base64-encoded`);
        return;
      }
      seen.add(kid);
      keys.push({ kid, key });
    });
  return keys;
}

function parsePort(raw: string | undefined, problems: string[], variable = 'PORT', fallback = 3000): number {
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`${variable} must be an integer from 0 to 65535, got "${raw}"`);
  }
  return port;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const problems: string[] = [];
  const production = env.NODE_ENV === 'production';

  const port = parsePort(env.PORT, problems);
  const host = env.HOST || '127.0.0.1';
  const metricsPort = parsePort(env.METRICS_PORT, problems, 'METRICS_PORT', 9464);
  const metricsHost = env.METRICS_HOST || '127.0.0.1';
  const dataDirRaw = env.SECRETS_DATA_DIR || './data';
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(process.cwd(), dataDirRaw);

  const { nats, prefix: natsPrefix } = natsOptionsFromEnv(env, problems);
  const tls = httpsFiles(env, problems);
  if (production && !tls && !isLoopback(host) && env.SECRETS_ALLOW_PLAIN_HTTP !== 'true') {
    problems.push(
      `HOST=${host} is reachable from other machines, and plain HTTP would carry tokens and values in clear: ` +
        'set TLS_CERT_FILE and TLS_KEY_FILE, or SECRETS_ALLOW_PLAIN_HTTP=true behind a TLS-terminating proxy',
    );
  }

  let masterKeys: MasterKeySpec[] = [];
  if (env.SECRETS_MASTER_KEYS) {
    masterKeys = parseMasterKeys(env.SECRETS_MASTER_KEYS, problems);
  } else if (production) {
    problems.push('SECRETS_MASTER_KEYS is required when NODE_ENV=production (kid:base64key,… with 32-byte keys)');
  }

  const adminToken = env.SECRETS_ADMIN_TOKEN || undefined;
  if (adminToken !== undefined && adminToken.length < 32) {
    problems.push('SECRETS_ADMIN_TOKEN must be at least 32 characters (use 256 random bits)');
  }

  const logLevel = (env.LOG_LEVEL || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  }

  const http = parseHttpLimits(env, problems);
  const postgres = positiveIntegers(env, POSTGRES_LIMIT_DEFAULTS, POSTGRES_LIMIT_VARIABLES, problems);
  const streams = parseStreamLimits(env, problems);
  const databaseUrl = parseDatabaseUrl(env.DATABASE_URL, problems);
  if (databaseUrl !== undefined && !env.SECRETS_MASTER_KEYS) {
    // A development key file lives in one instance's data dir: another instance on the same
    // database would seal with a key of its own, and neither could open the other's values.
    problems.push('DATABASE_URL needs SECRETS_MASTER_KEYS: every instance on the database must seal and open values with the same master keys');
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    host,
    dataDir,
    databasePath: resolve(dataDir, 'secrets.db'),
    databaseUrl,
    nats,
    natsPrefix,
    tls,
    masterKeys,
    adminToken,
    logLevel,
    production,
    metricsHost,
    metricsPort,
    http,
    postgres,
    streams,
  };
}

/** A database URL as logs and errors may show it: without its user and password. */
export function describeDatabaseUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    url.search = '';
    return url.toString();
  } catch {
    return 'DATABASE_URL';
  }
}

/** The URL itself is never repeated in a problem: it may hold a password. */
export function parseDatabaseUrl(raw: string | undefined, problems: string[]): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || !['postgres:', 'postgresql:'].includes(url.protocol) || (url.hostname === '' && !url.searchParams.has('host'))) {
    problems.push('DATABASE_URL must be a PostgreSQL URL such as postgres://user@host:5432/secrets (unset: SQLite in the data dir)');
    return undefined;
  }
  return raw;
}

function httpsFiles(env: NodeJS.ProcessEnv, problems: string[]): AppConfig['tls'] {
  const certFile = readableFile(env, 'TLS_CERT_FILE', problems);
  const keyFile = readableFile(env, 'TLS_KEY_FILE', problems);
  if (Boolean(certFile) !== Boolean(keyFile)) {
    problems.push('TLS_CERT_FILE and TLS_KEY_FILE go together: set both to serve HTTPS, or neither');
    return undefined;
  }
  return certFile && keyFile ? { certFile, keyFile } : undefined;
}

/** Addresses only this machine can reach: plain HTTP there crosses no network. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
