import type { Command } from 'commander';

export type EnvironmentHelp = ReadonlyArray<readonly [variable: string, meaning: string]>;

/** SPEC §6: every command's --help lists the environment it reads. */
export function readsEnvironment(command: Command, variables: EnvironmentHelp): Command {
  const width = Math.max(...variables.map(([name]) => name.length));
  const lines = variables.map(([name, meaning]) => `  ${name.padEnd(width)}  ${meaning}`);
  return command.addHelpText('after', `\nEnvironment:\n${lines.join('\n')}\n`);
}

const SERVICE_URL = ['SECRETS_URL', 'the service, default http://127.0.0.1:3000'] as const;
const NATS = ['NATS_URL', 'NATS for change notifications, default nats://127.0.0.1:4222'] as const;
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
  NATS,
  ['METRICS_HOST, METRICS_PORT', 'Prometheus /metrics listener, default 127.0.0.1:9464; METRICS_PORT=0 turns it off'],
  LOG_LEVEL,
  ['NODE_ENV', 'production makes SECRETS_MASTER_KEYS mandatory'],
];

export const DATA_DIR_ENVIRONMENT: EnvironmentHelp = [
  DATA_DIR,
  ['SECRETS_MASTER_KEYS', 'kid:base64key,… (first active); unset: the dev key file in the data dir'],
  LOG_LEVEL,
];

export const AUDIT_ENVIRONMENT: EnvironmentHelp = [['SECRETS_DATA_DIR', 'the data dir whose secrets.db is read (unless --db), default ./data']];

export const RUN_ENVIRONMENT: EnvironmentHelp = [SERVICE_URL, ['SECRETS_TOKEN', 'an executor token (not passed on to the command)'], NATS];
