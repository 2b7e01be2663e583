import { Command, InvalidArgumentError } from 'commander';
import { ADMIN_ENVIRONMENT, readsEnvironment } from '../environment-help';
import { adminApiFromEnvironment } from './admin-api';
import { importDotenv } from './dotenv-import';
import { OutputOptions, printJson, printRecord, printTable } from './render';
import { API } from '../../contract/api-routes';
import type { SecretHistoryEntry as HistoryEntry, SecretMeta } from '../../contract/api-types';
import { CommandFailure, EXIT } from './exit-codes';
import { confirm, readSecretValue } from './value-input';


function version(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a version is a whole number from 1');
  return n;
}

/** What the history says of a version's value: rolled back from another, or destroyed. */
function valueNote(entry: HistoryEntry): string {
  const notes = [
    ...(entry.toVersion !== undefined ? [`version ${entry.toVersion}'s`] : []),
    ...(entry.destroyed ? [`destroyed ${entry.destroyed.at} by ${entry.destroyed.by}`] : []),
  ];
  return notes.join('; ');
}
/** `--expires-at`: the service checks the date-time (SPEC §1); the CLI only spells "none". */
const EXPIRES_AT_OPTION = ['--expires-at <time>', 'when it expires, RFC 3339 (2027-01-31T00:00:00Z); expiry deletes nothing'] as const;

function showMeta(meta: SecretMeta, options: OutputOptions): void {
  if (options.json) printJson(meta);
  else
    printRecord({
      key: meta.key,
      version: meta.version,
      description: meta.description,
      expiresAt: expiryText(meta),
      createdAt: meta.createdAt,
      createdBy: meta.createdBy,
      updatedAt: meta.updatedAt,
      updatedBy: meta.updatedBy,
    });
}

/** An expiry for people: the time, and whether it has passed or is near. */
function expiryText(meta: SecretMeta): string {
  if (meta.expiresAt === undefined) return 'never';
  return meta.expiry ? `${meta.expiresAt} (${meta.expiry === 'expired' ? 'EXPIRED' : 'expiring soon'})` : meta.expiresAt;
}

/** `secrets-ledger secrets …` (SPEC §6): the secrets API for admins. Values go in, never out. */
export function addSecretsCommands(program: Command): void {
  const secrets = program.command('secrets').description('list, show, add, change, roll back and remove secrets, and destroy old values (over the HTTP API)');

  secrets
    .command('list')
    .description('every secret: key, version, last change (never a value)')
    .option('--json', 'print JSON')
    .action(async (options: OutputOptions) => {
      const items = await adminApiFromEnvironment().all(API.listSecrets);
      if (options.json) printJson({ items });
      else if (items.some((s) => s.expiresAt !== undefined))
        printTable(
          ['KEY', 'VERSION', 'UPDATED', 'BY', 'EXPIRES', 'DESCRIPTION'],
          items.map((s) => [s.key, s.version, s.updatedAt, s.updatedBy, s.expiresAt === undefined ? '' : expiryText(s), s.description]),
        );
      // Without any expiry, no column for it.
      else printTable(['KEY', 'VERSION', 'UPDATED', 'BY', 'DESCRIPTION'], items.map((s) => [s.key, s.version, s.updatedAt, s.updatedBy, s.description]), '(no secrets)');
    });

  secrets
    .command('show')
    .description("a secret's metadata (never its value)")
    .argument('<KEY>')
    .option('--json', 'print JSON')
    .action(async (key: string, options: OutputOptions) => {
      showMeta(await adminApiFromEnvironment().call(API.getSecret, { params: { key } }), options);
    });

  secrets
    .command('add')
    .description('add a secret; the value comes from --from-file, standard input, or a hidden prompt')
    .argument('<KEY>')
    .option('--description <text>', 'what the secret is for')
    .option(...EXPIRES_AT_OPTION)
    .option('--from-file <file>', 'read the value from this file')
    .option('--json', 'print JSON')
    .action(async (key: string, options: OutputOptions & { description?: string; expiresAt?: string; fromFile?: string }) => {
      const api = adminApiFromEnvironment();
      const value = await readSecretValue(key, options.fromFile);
      const json = {
        key,
        value,
        ...(options.description !== undefined ? { description: options.description } : {}),
        ...(options.expiresAt !== undefined ? { expiresAt: options.expiresAt } : {}),
      };
      showMeta(await api.call(API.addSecret, { json }), options);
    });

  secrets
    .command('set')
    .description("change a secret's value (from --from-file, standard input, or a hidden prompt) and/or description")
    .argument('<KEY>')
    .option('--description <text>', 'the new description')
    .option('--expires-at <time>', 'the new expiry, RFC 3339; `never` clears it')
    .option('--keep-value', 'change only the description or expiry; read no value')
    .option('--from-file <file>', 'read the value from this file')
    .option('--if-version <n>', 'refuse (exit 4) if the secret is no longer at this version', version)
    .option('--json', 'print JSON')
    .action(async (key: string, options: OutputOptions & { description?: string; expiresAt?: string; keepValue?: boolean; fromFile?: string; ifVersion?: number }) => {
      const api = adminApiFromEnvironment();
      const body: { value?: string; description?: string; expiresAt?: string | null } = {};
      if (!options.keepValue) body.value = await readSecretValue(key, options.fromFile);
      if (options.description !== undefined) body.description = options.description;
      if (options.expiresAt !== undefined) body.expiresAt = options.expiresAt === 'never' ? null : options.expiresAt;
      showMeta(await api.call(API.changeSecret, { params: { key }, json: body, ifMatch: options.ifVersion }), options);
    });

  secrets
    .command('rm')
    .description('remove a secret (its history stays in the log); asks first on a terminal')
    .argument('<KEY>')
    .option('--if-version <n>', 'refuse (exit 4) if the secret is no longer at this version', version)
    .option('--yes', 'remove without asking (required without a terminal)')
    .option('--json', 'print JSON')
    .action(async (key: string, options: OutputOptions & { ifVersion?: number; yes?: boolean }) => {
      const api = adminApiFromEnvironment();
      let ifVersion = options.ifVersion;
      if (!options.yes) {
        if (process.stdin.isTTY !== true) throw new CommandFailure(`${key} not removed: nobody to ask without a terminal; pass --yes to remove it`, EXIT.usage);
        const meta = await api.call(API.getSecret, { params: { key } });
        const question = `Remove ${key} (version ${meta.version}, updated ${meta.updatedAt} by ${meta.updatedBy})? Executors stop receiving it at once. [y/N] `;
        if (!(await confirm(question))) {
          if (options.json) printJson({ key, removed: false });
          else process.stderr.write(`${key} not removed\n`);
          return;
        }
        // What was confirmed is what goes: a change made while the question was open refuses (exit 4).
        ifVersion ??= meta.version;
      }
      await api.call(API.removeSecret, { params: { key }, ifMatch: ifVersion });
      if (options.json) printJson({ key, removed: true });
      else process.stdout.write(`removed ${key}\n`);
    });

  secrets
    .command('history')
    .description('every version of a secret: what happened, when, by whom')
    .argument('<KEY>')
    .option('--json', 'print JSON')
    .action(async (key: string, options: OutputOptions) => {
      const { items } = await adminApiFromEnvironment().call(API.secretHistory, { params: { key } });
      if (options.json) printJson({ items });
      else {
        const withExpiry = items.some((e) => e.expiresAt !== undefined);
        printTable(
          ['VERSION', 'TYPE', 'AT', 'BY', ...(withExpiry ? ['EXPIRES'] : []), 'DESCRIPTION', 'NOTE'],
          items.map((e) => [e.version, e.type, e.at, `${e.actor.name} (${e.actor.id})`, ...(withExpiry ? [e.expiresAt === undefined ? '' : (e.expiresAt ?? 'never')] : []), e.description, valueNote(e)]),
        );
      }
    });

  secrets
    .command('rollback')
    .description("make an earlier version's value current again, as a new version; the value never leaves the service")
    .argument('<KEY>')
    .requiredOption('--to <n>', 'the version whose value becomes current', version)
    .option('--if-version <n>', 'refuse (exit 4) if the secret is no longer at this version', version)
    .option('--json', 'print JSON')
    .action(async (key: string, options: OutputOptions & { to: number; ifVersion?: number }) => {
      showMeta(await adminApiFromEnvironment().call(API.rollbackSecret, { params: { key }, json: { toVersion: options.to }, ifMatch: options.ifVersion }), options);
    });

  secrets
    .command('destroy')
    .description("destroy one version's value for ever (its data key is deleted; the history stays); asks first on a terminal")
    .argument('<KEY>')
    .requiredOption('--version <n>', 'the version whose value to destroy', version)
    .option('--yes', 'destroy without asking (required without a terminal)')
    .option('--json', 'print JSON')
    .action(async (key: string, options: OutputOptions & { version: number; yes?: boolean }) => {
      const api = adminApiFromEnvironment();
      if (!options.yes) {
        if (process.stdin.isTTY !== true) throw new CommandFailure(`${key} version ${options.version} not destroyed: nobody to ask without a terminal; pass --yes to destroy it`, EXIT.usage);
        // A version that is not there is said to be missing, not asked about.
        const { items } = await api.call(API.secretHistory, { params: { key } });
        const entry = items.find((item) => item.version === options.version);
        if (!entry) throw new CommandFailure(`${key} has no version ${options.version}`, EXIT.notFound);
        const question =
          `Destroy the value of ${key} version ${options.version} (${entry.type} ${entry.at} by ${entry.actor.name})? ` +
          'It can never be read, resolved or rolled back to again, by anyone, from this database or any backup taken afterwards. [y/N] ';
        if (!(await confirm(question))) {
          if (options.json) printJson({ key, version: options.version, destroyed: false });
          else process.stderr.write(`${key} version ${options.version} not destroyed\n`);
          return;
        }
      }
      await api.call(API.destroySecretVersion, { params: { key, version: String(options.version) } });
      if (options.json) printJson({ key, version: options.version, destroyed: true });
      else process.stdout.write(`destroyed ${key} version ${options.version}\n`);
    });

  secrets
    .command('consumers')
    .description('who holds which version: each token and plugin that resolved the key, the version it got, whether that is current')
    .argument('<KEY>')
    .option('--json', 'print JSON')
    .action(async (key: string, options: OutputOptions) => {
      const { items } = await adminApiFromEnvironment().call(API.secretConsumers, { params: { key } });
      if (options.json) printJson({ items });
      else
        printTable(
          ['TOKEN', 'PLUGIN', 'VERSION', 'RESOLVED', 'STATE'],
          items.map((c) => [`${c.tokenName} (${c.tokenId})`, c.plugin, c.version, c.resolvedAt, c.current ? 'current' : c.stale ? 'STALE' : 'old']),
          `(nobody has resolved ${key})`,
        );
    });

  secrets
    .command('import')
    .description('add the keys of a dotenv file that do not exist yet (--overwrite: change the others too), one event per key; shows the plan first')
    .argument('<FILE.env>')
    .option('--overwrite', 'give keys that exist already the value in the file (a new version each)')
    .option(...EXPIRES_AT_OPTION)
    .option('--yes', 'apply without asking')
    .option('--json', 'print JSON')
    .action(async (file: string, options: OutputOptions & { yes?: boolean; overwrite?: boolean; expiresAt?: string }) => importDotenv(adminApiFromEnvironment(), file, options));

  [secrets, ...secrets.commands].forEach((command) => readsEnvironment(command, ADMIN_ENVIRONMENT));
}
