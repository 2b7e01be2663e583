#!/usr/bin/env node
import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config/configuration';
import { auditCommand } from './cli/audit.command';
import { addSecretsCommands } from './cli/admin/secrets.command';
import { addTokensCommands } from './cli/admin/tokens.command';
import { CommandFailure, EXIT } from './cli/admin/exit-codes';
import { AUDIT_ENVIRONMENT, DATA_DIR_ENVIRONMENT, ROTATE_ENVIRONMENT, RUN_ENVIRONMENT, SERVICE_ENVIRONMENT, readsEnvironment } from './cli/environment-help';

// The service's commands load Nest, `run` the SDK and NATS, the audit commands the database
// drivers, each when it runs, not when the CLI starts: an admin command or --help should not
// pay for the whole application.

/** dist/cli.js and src/cli.ts both sit one level below package.json. */
const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

/**
 * `secrets-ledger` (SPEC §6). Configuration comes from the environment (SPEC §7) for every
 * subcommand; problems with it are printed one per line and exit non-zero. Exit codes are in
 * cli/admin/exit-codes.ts (and docs/CLI.md): usage errors are 2 for every command.
 */
async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('secrets-ledger')
    .description('Event-sourced secrets service for plugin platforms')
    .showHelpAfterError();

  readsEnvironment(
    program
      .command('serve')
      .description('run the service (HTTP API, NATS notifications)')
      .action(async () => (await import('./cli/serve.command')).serve(loadConfig())),
    SERVICE_ENVIRONMENT,
  );

  readsEnvironment(
    program
      .command('rebuild-read-model')
      .description('rebuild the secrets read model from the event log alone')
      .action(async () => (await import('./cli/rebuild-read-model.command')).rebuildReadModelCommand(loadConfig())),
    DATA_DIR_ENVIRONMENT,
    SERVICE_ENVIRONMENT,
  );

  const run = program
    .command('run')
    .description("run a command with a plugin's declared secrets in its environment")
    .requiredOption('--plugin <fiftyone.yml>', 'the plugin manifest declaring the secrets')
    .option('--watch', 'restart the command when a declared secret changes')
    .option('--url <url>', 'service URL (default $SECRETS_URL, else http://127.0.0.1:3000)')
    .option('--token <token>', 'executor token (default $SECRETS_TOKEN; prefer it: flags show in ps)')
    .option('--nats-url <url>', 'NATS for change notifications (default $NATS_URL)')
    .option('--precedence <mode>', 'env-first | store-first | store-only', 'env-first')
    .argument('<command...>', 'the command to run, after --')
    .action(async (command: string[], options) => {
      // Exit at once with the child's code: idle HTTP keep-alive sockets must not hold us up.
      process.exit(await (await import('./cli/run.command')).runCommand(command, options));
    });
  readsEnvironment(run, RUN_ENVIRONMENT);
  const audit = program.addCommand(auditCommand()).commands.at(-1)!;
  [audit, ...audit.commands].forEach((command) => readsEnvironment(command, AUDIT_ENVIRONMENT));

  readsEnvironment(
    program
      .command('rotate-master-key')
      .description('rewrap every data key under the active (first) master key; the log is not rewritten')
      .action(async () => (await import('./cli/rotate-master-key.command')).rotateMasterKeyCommand(loadConfig())),
    ROTATE_ENVIRONMENT,
    SERVICE_ENVIRONMENT,
  );

  addSecretsCommands(program);
  addTokensCommands(program);

  // --version on every command (only -V where `--version` names a secret's version, as in
  // `secrets destroy`), and usage errors as exit 2 everywhere (not commander's 1). A parent's
  // options go before its subcommand, so `secrets destroy K --version 3` reaches `destroy`.
  const everyCommand = (command: Command): Command[] => [command, ...command.commands.flatMap(everyCommand)];
  const hasVersionOption = (command: Command) => command.options.some((option) => option.long === '--version');
  everyCommand(program).forEach((command) => {
    command.version(VERSION, hasVersionOption(command) ? '-V' : undefined).exitOverride();
    if (command.commands.length > 0) command.enablePositionalOptions();
  });

  await program.parseAsync(argv);
}

main(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // commander has printed the message (or the help, or the version) already.
    process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
  }
  if (error instanceof CommandFailure) {
    process.stderr.write(`secrets-ledger: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`secrets-ledger: invalid configuration\n${error.problems.map((p) => `  - ${p}`).join('\n')}\n`);
  } else {
    process.stderr.write(`secrets-ledger: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
