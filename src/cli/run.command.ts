import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { PluginContext, Precedence, SecretsClient, loadPluginManifest } from '../client';
import { ConfigError } from '../config/configuration';
import { serviceToken, serviceUrl } from '../client/service-address';
import { natsOptionsFromEnv, readableFile } from '../nats/nats-options';

export interface RunOptions {
  plugin: string;
  watch?: boolean;
  url?: string;
  token?: string;
  natsUrl?: string;
  precedence?: Precedence;
}

const PRECEDENCES: readonly Precedence[] = ['env-first', 'store-first', 'store-only'];
const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * `secrets-ledger run --plugin fiftyone.yml [--watch] -- cmd…` (SPEC §6): runs `cmd` with the
 * plugin's declared secrets in its environment, the way FiftyOne reads them. Signals go to the
 * child and its exit code becomes ours; with --watch a change to a declared key restarts it
 * (heard over NATS when NATS_URL or --nats-url names one, else over the service's change stream).
 * Resolves with the exit code; the caller exits.
 */
export async function runCommand(command: string[], options: RunOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // Read here, not only by the SDK, so that a problem names the flag or variable it came from.
  const token = serviceToken(options.token ?? env.SECRETS_TOKEN, options.token !== undefined ? '--token' : 'SECRETS_TOKEN');
  const url = serviceUrl(options.url ?? (env.SECRETS_URL || 'http://127.0.0.1:3000'), options.url !== undefined ? '--url' : 'SECRETS_URL');
  if (!token) throw new Error('an executor token is required: set SECRETS_TOKEN (or pass --token)');
  const precedence = options.precedence ?? 'env-first';
  if (!PRECEDENCES.includes(precedence)) throw new Error(`--precedence must be one of ${PRECEDENCES.join(', ')}`);

  // The same NATS settings as the service's (SPEC §7): user/password, token, NKey, creds, TLS.
  const problems: string[] = [];
  const { nats, prefix } = natsOptionsFromEnv({ ...env, ...(options.natsUrl ? { NATS_URL: options.natsUrl } : {}) }, problems);
  const caFile = readableFile(env, 'SECRETS_CA_FILE', problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const manifest = await loadPluginManifest(options.plugin);
  manifest.warnings?.forEach((warning) => warn(warning));
  const client = await SecretsClient.connect({
    url: url.href,
    token,
    // Only --watch follows changes: a single run has nothing to hear. It follows NATS when one
    // is named (NATS_URL, --nats-url), otherwise the service's own change stream.
    follow: options.watch === true,
    ...(options.watch && (options.natsUrl || env.NATS_URL) ? { nats: { ...nats, prefix } } : {}),
    ...(caFile ? { ca: readFileSync(caFile) } : {}),
    precedence,
    env,
    // "cannot receive change notifications (why)" and "… again": the command keeps running
    // meanwhile, on the values it has, and a change still arrives at the periodic resync.
    log: (level, message) => (level === 'warn' ? warn(message) : note(message)),
  });
  try {
    const context = await client.hydrate(manifest);
    const unprovided = context.declared.filter((key) => !context.secrets.has(key));
    if (unprovided.length > 0) warn(`${manifest.name} declares ${unprovided.join(', ')}, but neither the store nor the environment provides ${unprovided.length === 1 ? 'it' : 'them'}`);
    if (!options.watch) {
      // Nothing to follow: let go of the service before the command runs.
      const childEnv = childEnvironment(context, env, precedence);
      await client.close();
      return await supervise(command, () => childEnv, undefined);
    }
    return await supervise(command, () => childEnvironment(context, env, precedence), context, (keys) => note(`${keys.join(', ')} changed: restarting the command`));
  } finally {
    await client.close();
  }
}

/** On stderr, so the command's own output stays its own. */
function warn(message: string): void {
  process.stderr.write(`secrets-ledger run: warning: ${message}\n`);
}

function note(message: string): void {
  process.stderr.write(`secrets-ledger run: ${message}\n`);
}

/**
 * The parent's environment plus the declared secrets. The executor token and NATS credentials
 * stay with us; with `store-only` no declared key comes from our own environment, not even one
 * the store lacks (the child reads its secrets from the environment, as FiftyOne does, and must
 * not see a value the precedence excludes).
 */
function childEnvironment(context: PluginContext, env: NodeJS.ProcessEnv, precedence: Precedence): NodeJS.ProcessEnv {
  const childEnv: NodeJS.ProcessEnv = { ...env };
  for (const name of ['SECRETS_TOKEN', 'NATS_PASSWORD', 'NATS_TOKEN']) delete childEnv[name];
  if (precedence === 'store-only') for (const key of context.declared) delete childEnv[key];
  for (const key of context.secrets.keys()) childEnv[key] = context.secrets.get(key);
  return childEnv;
}

/**
 * Runs the command until it exits on its own or by a forwarded signal; restarts it on change,
 * telling `onRestart` which keys changed (names only: the values are the child's alone).
 */
function supervise(
  command: string[],
  environment: () => NodeJS.ProcessEnv,
  watched: PluginContext | undefined,
  onRestart?: (keys: string[]) => void,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    let restarting = false;

    const start = () => {
      child = spawn(command[0], command.slice(1), { stdio: 'inherit', env: environment() });
      child.once('error', (error) => finish(() => reject(new Error(`cannot start ${command[0]}: ${error.message}`))));
      child.once('exit', (code, signal) => {
        if (restarting) {
          restarting = false;
          start();
        } else {
          finish(() => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
        }
      });
    };
    const forward = (signal: NodeJS.Signals) => {
      restarting = false;
      child.kill(signal);
    };
    const restart = (keys: string[]) => {
      onRestart?.(keys);
      if (restarting) return;
      restarting = true;
      child.kill('SIGTERM');
    };
    const finish = (settle: () => void) => {
      FORWARDED_SIGNALS.forEach((signal) => process.off(signal, forward));
      watched?.off('change', restart);
      settle();
    };

    FORWARDED_SIGNALS.forEach((signal) => process.on(signal, forward));
    watched?.on('change', restart);
    start();
  });
}
