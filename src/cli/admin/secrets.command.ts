import { Command, InvalidArgumentError } from 'commander';
import { ADMIN_ENVIRONMENT, readsEnvironment } from '../environment-help';
import { adminApiFromEnvironment } from './admin-api';
import { importDotenv } from './dotenv-import';
import { OutputOptions, printJson, printRecord, printTable } from './render';
import { API } from '../../contract/api-routes';
import type { SecretMeta } from '../../contract/api-types';
import { CommandFailure, EXIT } from './exit-codes';
import { confirm, readSecretValue } from './value-input';


function version(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a version is a whole number from 1');
  return n;
}

function showMeta(meta: SecretMeta, options: OutputOptions): void {
  if (options.json) printJson(meta);
  else printRecord({ key: meta.key, version: meta.version, description: meta.description, createdAt: meta.createdAt, createdBy: meta.createdBy, updatedAt: meta.updatedAt, updatedBy: meta.updatedBy });
}

/** `secrets-ledger secrets …` (SPEC §6): the secrets API for admins. Values go in, never out. */
export function addSecretsCommands(program: Command): void {
  const secrets = program.command('secrets').description('list, show, add, change and remove secrets (over the HTTP API)');

  secrets
    .command('list')
    .description('every secret: key, version, last change (never a value)')
    .option('--json', 'print JSON')
    .action(async (options: OutputOptions) => {
      const items = await adminApiFromEnvironment().all(API.listSecrets);
      if (options.json) printJson({ items });
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
    .option('--from-file <file>', 'read the value from this file')
    .option('--json', 'print JSON')
    .action(async (key: string, options: OutputOptions & { description?: string; fromFile?: string }) => {
      const api = adminApiFromEnvironment();
      const value = await readSecretValue(key, options.fromFile);
      showMeta(await api.call(API.addSecret, { json: { key, value, ...(options.description !== undefined ? { description: options.description } : {}) } }), options);
    });

  secrets
    .command('set')
    .description("change a secret's value (from --from-file, standard input, or a hidden prompt) and/or description")
    .argument('<KEY>')
    .option('--description <text>', 'the new description')
    .option('--keep-value', 'change only the description; read no value')
    .option('--from-file <file>', 'read the value from this file')
    .option('--if-version <n>', 'refuse (exit 4) if the secret is no longer at this version', version)
    .option('--json', 'print JSON')
    .action(async (key: string, options: OutputOptions & { description?: string; keepValue?: boolean; fromFile?: string; ifVersion?: number }) => {
      const api = adminApiFromEnvironment();
      const body: { value?: string; description?: string } = {};
      if (!options.keepValue) body.value = await readSecretValue(key, options.fromFile);
      if (options.description !== undefined) body.description = options.description;
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
      else printTable(['VERSION', 'TYPE', 'AT', 'BY', 'DESCRIPTION'], items.map((e) => [e.version, e.type, e.at, `${e.actor.name} (${e.actor.id})`, e.description]));
    });

  secrets
    .command('import')
    .description('add the keys of a dotenv file that do not exist yet (--overwrite: change the others too), one event per key; shows the plan first')
    .argument('<FILE.env>')
    .option('--overwrite', 'give keys that exist already the value in the file (a new version each)')
    .option('--yes', 'apply without asking')
    .option('--json', 'print JSON')
    .action(async (file: string, options: OutputOptions & { yes?: boolean; overwrite?: boolean }) => importDotenv(adminApiFromEnvironment(), file, options));

  [secrets, ...secrets.commands].forEach((command) => readsEnvironment(command, ADMIN_ENVIRONMENT));
}
