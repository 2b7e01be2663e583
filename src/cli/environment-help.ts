import type { Command } from 'commander';

export type EnvironmentHelp = ReadonlyArray<readonly [variable: string, meaning: string]>;

/** SPEC §6: every command's --help lists the environment it reads. */
export function readsEnvironment(command: Command, variables: EnvironmentHelp): Command {
  const width = Math.max(...variables.map(([name]) => name.length));
  const lines = variables.map(([name, meaning]) => `  ${name.padEnd(width)}  ${meaning}`);
  return command.addHelpText('after', `\nEnvironment:\n${lines.join('\n')}\n`);
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
const LOG_LEVEL = ['LOG_LEVEL', 'fatal error warn info debug trace silent, default info'] as const;
const DATA_DIR = ['SECRETS_DATA_DIR', 'the data dir, default ./data (secrets.db inside)'] as const;

export const ADMIN_ENVIRONMENT: EnvironmentHelp = [
  SERVICE_URL,
  ['SECRETS_TOKEN', 'an admin token (never a flag: flags show in ps)'],
  ['SECRETS_CA_FILE', "a CA (PEM) to trust for the service's HTTPS"],
];

export const SERVICE_ENVIRONMENT: EnvironmentHelp = [
  ['PORT, HOST', 'HTTP listener, default 3000 on 127.0.0.1'],
  DATA_DIR,
  ['SECRETS_MASTER_KEYS', 'kid:base64key,… (first active); unset outside production: a dev key file'],
  ['SECRETS_ADMIN_TOKEN', 'the first admin token; unset: generated and printed once'],
  ['TLS_CERT_FILE, TLS_KEY_FILE', 'serve HTTPS with this certificate and key (PEM)'],
  ['SECRETS_ALLOW_PLAIN_HTTP', 'true: plain HTTP on a non-loopback HOST in production (a TLS proxy in front)'],
  ['SECRETS_MAX_CONNECTIONS', 'open connections at most, default 4096'],
  ['SECRETS_MAX_CONNECTIONS_PER_ADDRESS', 'of those, from one address (IPv6: one /64), default 256'],
  ['SECRETS_UNAUTHENTICATED_IDLE_MS', 'idle limit of a connection without an authenticated request, default 5000'],
  ['SECRETS_KEEP_ALIVE_TIMEOUT_MS', 'idle limit after an authenticated request, default 72000'],
  ...NATS,
  ['METRICS_HOST, METRICS_PORT', 'Prometheus /metrics listener, default 127.0.0.1:9464; METRICS_PORT=0 turns it off'],
  LOG_LEVEL,
  ['NODE_ENV', 'production makes SECRETS_MASTER_KEYS mandatory and plain HTTP off loopback an error'],
];

export const DATA_DIR_ENVIRONMENT: EnvironmentHelp = [
  DATA_DIR,
  ['SECRETS_MASTER_KEYS', 'kid:base64key,… (first active); unset: the dev key file in the data dir'],
  LOG_LEVEL,
];

/** rotate-master-key: the data dir, and the running service it rotates through when one holds it. */
export const ROTATE_ENVIRONMENT: EnvironmentHelp = [
  ...DATA_DIR_ENVIRONMENT,
  ['SECRETS_URL', "with a service running: its address (default: the one it wrote in the data dir)"],
  ['SECRETS_TOKEN', 'with a service running: an admin token (default SECRETS_ADMIN_TOKEN)'],
  ['SECRETS_CA_FILE', "a CA (PEM) to trust for the service's HTTPS"],
];

export const AUDIT_ENVIRONMENT: EnvironmentHelp = [['SECRETS_DATA_DIR', 'the data dir whose secrets.db is read (unless --db), default ./data']];

export const RUN_ENVIRONMENT: EnvironmentHelp = [
  SERVICE_URL,
  ['SECRETS_TOKEN', 'an executor token (not passed on to the command)'],
  ['SECRETS_CA_FILE', "a CA (PEM) to trust for the service's HTTPS"],
  ...NATS,
];
