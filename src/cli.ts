#!/usr/bin/env node
import 'reflect-metadata';
import { Command } from 'commander';
import { ConfigError, loadConfig } from './config/configuration';
import { serve } from './cli/serve.command';
import { rebuildReadModelCommand } from './cli/rebuild-read-model.command';
import { runCommand } from './cli/run.command';
import { auditCommand } from './cli/audit.command';
import { rotateMasterKeyCommand } from './cli/rotate-master-key.command';

/**
 * `secrets-ledger` (SPEC §6). Configuration comes from the environment (SPEC §7) for every
 * subcommand; problems with it are printed one per line and exit non-zero.
 */
async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('secrets-ledger')
    .description('Event-sourced secrets service for plugin platforms')
    .showHelpAfterError();

  program
    .command('serve')
    .description('run the service (HTTP API, NATS notifications)')
    .action(async () => serve(loadConfig()));

  program
    .command('rebuild-read-model')
    .description('rebuild the secrets read model from the event log alone')
    .action(async () => rebuildReadModelCommand(loadConfig()));

  program
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
      process.exit(await runCommand(command, options));
    });
  program.addCommand(auditCommand());

  program
    .command('rotate-master-key')
    .description('rewrap every data key under the active (first) master key; the log is not rewritten')
    .action(async () => rotateMasterKeyCommand(loadConfig()));

  await program.parseAsync(argv);
}

main(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`secrets-ledger: invalid configuration\n${error.problems.map((p) => `  - ${p}`).join('\n')}\n`);
  } else {
    process.stderr.write(`secrets-ledger: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
