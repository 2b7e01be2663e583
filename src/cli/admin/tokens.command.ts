import { Command } from 'commander';
import { listedPlugins } from '../../auth/plugin-name';
import { API } from '../../contract/api-routes';
import type { Role } from '../../contract/api-types';
import { ADMIN_ENVIRONMENT, readsEnvironment } from '../environment-help';
import { adminApiFromEnvironment } from './admin-api';
import { CommandFailure, EXIT } from './exit-codes';
import { OutputOptions, printJson, printRecord, printTable } from './render';

/** `secrets-ledger tokens …` (SPEC §6): issue, list and revoke bearer tokens. */
export function addTokensCommands(program: Command): void {
  const tokens = program.command('tokens').description('issue, list and revoke tokens (over the HTTP API)');

  tokens
    .command('issue')
    .description('issue a token; it is printed once and only its hash is kept')
    .requiredOption('--name <name>', 'who or what uses it, e.g. cvat-runner')
    .requiredOption('--role <role>', 'admin | executor | auditor')
    .option('--plugin <plugins>', 'executor only: plugins it may resolve for, comma-separated or repeated (none: any plugin)', (p: string, all: string[] = []) => [...all, p])
    .option('--json', 'print JSON')
    .action(async (options: OutputOptions & { name: string; role: string; plugin?: string[] }) => {
      const plugins = listedPlugins(options.plugin ?? []);
      // `--plugin "$UNSET"` must not become a token for any plugin.
      if (options.plugin !== undefined && plugins.length === 0) throw new CommandFailure('--plugin names no plugin: give one or more, or leave --plugin out for a token that may resolve for any plugin', EXIT.usage);
      // The role as typed: the service names the roles if it is none of them (exit 7).
      const body = { name: options.name, role: options.role as Role, ...(plugins.length > 0 ? { plugins } : {}) };
      const issued = await adminApiFromEnvironment().call(API.issueToken, { json: body });
      if (options.json) return printJson(issued);
      printRecord({ id: issued.id, name: issued.name, role: issued.role, plugins: issued.plugins?.join(', ') ?? 'any', createdAt: issued.createdAt });
      // The token on a line of its own, so `| tail -1` takes it; it is never shown again.
      process.stderr.write('token (shown once, store it now):\n');
      process.stdout.write(`${issued.token}\n`);
    });

  tokens
    .command('list')
    .description('every token: id, name, role, plugins, when issued, revoked and last used (never the token)')
    .option('--json', 'print JSON')
    .action(async (options: OutputOptions) => {
      const items = await adminApiFromEnvironment().all(API.listTokens);
      if (options.json) printJson({ items });
      else
        printTable(
          ['ID', 'NAME', 'ROLE', 'PLUGINS', 'CREATED', 'REVOKED', 'LAST USED'],
          items.map((t) => [t.id, t.name, t.role, t.plugins?.join(',') ?? 'any', t.createdAt, t.revokedAt ?? '', t.lastUsedAt ?? 'never']),
        );
    });

  tokens
    .command('revoke')
    .description('revoke a token at once')
    .argument('<ID>')
    .option('--json', 'print JSON')
    .action(async (id: string, options: OutputOptions) => {
      await adminApiFromEnvironment().call(API.revokeToken, { params: { id } });
      if (options.json) printJson({ id, revoked: true });
      else process.stdout.write(`revoked ${id}\n`);
    });

  [tokens, ...tokens.commands].forEach((command) => readsEnvironment(command, ADMIN_ENVIRONMENT));
}
