import type { Command } from 'commander';
import { POSTGRES_LIMIT_DEFAULTS, POSTGRES_LIMIT_VARIABLES, type PostgresLimits } from '../config/configuration';

export type EnvironmentHelp = ReadonlyArray<readonly [variable: string, meaning: string]>;

/**
 * SPEC §6: every command's --help lists the environment it reads. `alsoChecked` are read and
 * validated without changing what the command does (the maintenance commands load the whole
 * service configuration, so an invalid PORT stops them too): named, not explained again.
 */
export function readsEnvironment(command: Command, variables: EnvironmentHelp, alsoChecked: EnvironmentHelp = []): Command {
  const width = Math.max(...variables.map(([name]) => name.length));
  const lines = variables.map(([name, meaning]) => `  ${name.padEnd(width)}  ${meaning}`);
  const listed = new Set(variables.map(([name]) => name));
  const others = alsoChecked.map(([name]) => name).filter((name) => !listed.has(name));
  const also = others.length > 0 ? `Also read and checked as by serve (see serve --help):\n${wrapped(others, '  ')}\n` : '';
  return command.addHelpText('after', `\nEnvironment:\n${lines.join('\n')}\n${also}`);
}

/** Names separated by commas, a line at most 100 characters wide. */
function wrapped(names: string[], indent: string): string {
  const lines: string[] = [];
  for (const name of names) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + name.length + 2 <= 100) lines[last] += `, ${name}`;
    else lines.push(`${indent}${name}`);
  }
  return lines.join(',\n');
}

const SERVICE_URL = ['SECRETS_URL', 'the service, default http://127.0.0.1:3000'] as const;
const NATS: EnvironmentHelp = [
  ['NATS_URL', 'NATS for change notifications, default nats://127.0.0.1:4222 (tls:// for TLS; commas between servers)'],
  ['NATS_USER, NATS_PASSWORD', 'NATS user and password (or one of the next two)'],
  ['NATS_TOKEN', 'a NATS token'],
  ['NATS_NKEY_SEED_FILE, NATS_CREDS_FILE', 'an NKey seed file, or a .creds file (JWT + seed)'],
  ['NATS_TLS_CA_FILE', 'a CA (PEM) to trust for NATS'],
  ['NATS_TLS_CERT_FILE, NATS_TLS_KEY_FILE', 'a client certificate for NATS'],
  ['SECRETS_NATS_PREFIX', 'subjects are <prefix>.changed.<KEY>, default secrets'],
];
/** What each PostgreSQL limit bounds (SPEC §7); the record's type leaves none out. */
const POSTGRES_LIMIT_MEANINGS: Record<keyof PostgresLimits, string> = {
  connectTimeoutMs: 'ms to establish a PostgreSQL connection',
  acquireTimeoutMs: 'ms to wait for a free connection of the pool',
  lockTimeoutMs: "ms to wait for a lock (the log's append lock)",
  statementTimeoutMs: 'ms for one statement',
  idleInTransactionTimeoutMs: 'ms a transaction may stay open with nothing running',
};
const POSTGRES: EnvironmentHelp = [
  ['DATABASE_URL', 'postgres://… : PostgreSQL, which several instances may share; unset: SQLite in the data dir'],
  ...(Object.entries(POSTGRES_LIMIT_VARIABLES) as [keyof PostgresLimits, string][]).map(
    ([field, variable]) => [variable, `${POSTGRES_LIMIT_MEANINGS[field]}, default ${POSTGRES_LIMIT_DEFAULTS[field]} (past it: 503)`] as const,
  ),
];
const LOG_LEVEL = ['LOG_LEVEL', 'fatal error warn info debug trace silent, default info'] as const;
const DATA_DIR = ['SECRETS_DATA_DIR', 'the data dir, default ./data (secrets.db inside)'] as const;
const CA_FILE = ['SECRETS_CA_FILE', "a CA (PEM) to trust for the service's HTTPS"] as const;

export const ADMIN_ENVIRONMENT: EnvironmentHelp = [
  SERVICE_URL,
  ['SECRETS_TOKEN', 'an admin token (never a flag: flags show in ps)'],
  CA_FILE,
];

export const SERVICE_ENVIRONMENT: EnvironmentHelp = [
  ['PORT, HOST', 'HTTP listener, default 3000 on 127.0.0.1'],
  DATA_DIR,
  ...POSTGRES,
  ['SECRETS_MASTER_KEYS', 'kid:base64key,… (first active); unset outside production: a dev key file'],
  ['SECRETS_ADMIN_TOKEN', 'the first admin token; unset: generated and printed once'],
  ['TLS_CERT_FILE, TLS_KEY_FILE', 'serve HTTPS with this certificate and key (PEM)'],
  ['SECRETS_ALLOW_PLAIN_HTTP', 'true: plain HTTP on a non-loopback HOST in production (a TLS proxy in front)'],
  ['SECRETS_RATE_LIMIT_PER_MINUTE', 'requests a minute per token, default 6000'],
  ['SECRETS_AUTH_FAILURES_PER_MINUTE', 'failed authentications a minute per client address before 429, default 30'],
  ['SECRETS_REQUEST_TIMEOUT_MS, SECRETS_HEADERS_TIMEOUT_MS', 'a whole request / its headers must arrive within, default 30000 / 10000'],
  ['SECRETS_MAX_CONNECTIONS', 'open connections at most, default 4096'],
  ['SECRETS_MAX_CONNECTIONS_PER_ADDRESS', 'of those, from one address (IPv6: one /64), default 256'],
  ['SECRETS_UNAUTHENTICATED_IDLE_MS', 'idle limit of a connection without an authenticated request, default 5000'],
  ['SECRETS_KEEP_ALIVE_TIMEOUT_MS', 'idle limit after an authenticated request, default 72000'],
  ['SECRETS_STREAMS_PER_TOKEN', 'change streams one token may hold open, default 64'],
  ['SECRETS_MAX_STREAMS', 'change streams open in all, default 1024'],
  ['SECRETS_STREAM_HEARTBEAT_MS', 'the longest a change stream stays silent, default 15000'],
  ['SECRETS_STREAM_MAX_UNSENT_BYTES', "a stream's unread bytes before its reader is dropped, default 1048576"],
  ...NATS,
  ['METRICS_HOST, METRICS_PORT', 'Prometheus /metrics listener, default 127.0.0.1:9464; METRICS_PORT=0 turns it off'],
  LOG_LEVEL,
  ['NODE_ENV', 'production makes SECRETS_MASTER_KEYS mandatory and plain HTTP off loopback an error'],
];

export const DATA_DIR_ENVIRONMENT: EnvironmentHelp = [
  DATA_DIR,
  ...POSTGRES,
  ['SECRETS_MASTER_KEYS', 'kid:base64key,… (first active); unset: the dev key file in the data dir'],
  LOG_LEVEL,
];

/** rotate-master-key: the data dir, and the running service it rotates through when one holds it. */
export const ROTATE_ENVIRONMENT: EnvironmentHelp = [
  ...DATA_DIR_ENVIRONMENT,
  ['SECRETS_URL', "with a service running: its address (default: the one it wrote in the data dir)"],
  ['SECRETS_TOKEN', 'with a service running: an admin token (default SECRETS_ADMIN_TOKEN)'],
  CA_FILE,
];

/** The audit commands' sources (cli/audit/audit-source.ts): one of them names the trail. */
export const AUDIT_ENVIRONMENT: EnvironmentHelp = [
  ['DATABASE_URL', 'source postgres: the database, read-only (credentials never printed)'],
  ['SECRETS_URL', "source api: the service's address"],
  ['SECRETS_TOKEN', 'source api: an auditor (or admin) token (never a flag: flags show in ps)'],
  CA_FILE,
  ['SECRETS_DATA_DIR', 'source file: the data dir whose secrets.db is read (unless --db), default ./data'],
];

export const RUN_ENVIRONMENT: EnvironmentHelp = [
  SERVICE_URL,
  ['SECRETS_TOKEN', 'an executor token (not passed on to the command)'],
  CA_FILE,
  ['NATS_URL', "with --watch: NATS to hear of changes from; unset: the service's own change stream"],
  ...NATS.slice(1),
];
