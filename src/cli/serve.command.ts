import { mkdirSync } from 'node:fs';
import { AppConfig, describeDatabaseUrl } from '../config/configuration';
import { createApp } from '../app.factory';
import { DataDirLock } from '../storage/data-dir-lock';

/** Referenced for the life of the process: a collected lock would close its file and drop the lock. */
let held: DataDirLock | undefined;

export async function serve(config: AppConfig): Promise<void> {
  // The one command that creates a data dir (SPEC §6); the absolute path goes first, so that an
  // operator sees at once which store a relative SECRETS_DATA_DIR turned into.
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const database = config.databaseUrl === undefined ? config.databasePath : describeDatabaseUrl(config.databaseUrl);
  process.stdout.write(`secrets-ledger data dir ${config.dataDir} (database ${database})\n`);
  // Held for the life of the process: one service per SQLite data dir (SPEC §8), and the CLI
  // knows a service is running (rotate-master-key then goes through it). Dropped by the kernel
  // however the process ends.
  const lock = (held = DataDirLock.tryAcquire(config.dataDir));
  if (!lock) {
    throw new Error(`another secrets-ledger process holds the data dir ${config.dataDir} (a service, or rotate-master-key): wait for it, or stop it`);
  }
  const app = await createApp(config);
  await app.listen(config.port, config.host);
  const url = (await app.getUrl()).replace('[::1]', 'localhost');
  lock.announce({ pid: process.pid, url });
  // Fastify logs "Server listening" as JSON; this plain line is for people and scripts (the
  // tests and the benchmark wait for it).
  process.stdout.write(`secrets-ledger listening on ${url} (console /, API /api/v1, docs /docs)\n`);
}
