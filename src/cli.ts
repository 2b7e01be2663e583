#!/usr/bin/env node
import 'reflect-metadata';
import { Command } from 'commander';
import { ConfigError, loadConfig } from './config/configuration';
import { serve } from './cli/serve.command';
import { rebuildReadModelCommand } from './cli/rebuild-read-model.command';
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
