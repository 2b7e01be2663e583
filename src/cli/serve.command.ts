import { mkdirSync } from 'node:fs';
import { AppConfig, describeDatabaseUrl, isLoopback } from '../config/configuration';
import { createApp } from '../app.factory';
import { DataDirLock } from '../storage/data-dir-lock';
import { ListenError, boundUrl, ensureListenable, plainHttpWarning } from '../config/listen-address';
import { stopWithNpmParent } from './npm-parent';

/** Referenced for the life of the process: a collected lock would close its file and drop the lock. */
let held: DataDirLock | undefined;

export async function serve(config: AppConfig): Promise<void> {
  // Both listeners first: a port in use stops the start before it creates a data dir, and the
  // error names the variable to change (a second instance on one host meets METRICS_PORT).
  const http = { portVariable: 'PORT', hostVariable: 'HOST', host: config.host, port: config.port } as const;
  await ensureListenable([http, { portVariable: 'METRICS_PORT', hostVariable: 'METRICS_HOST', host: config.metricsHost, port: config.metricsPort }]);
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
  await app.listen(config.port, config.host).catch((error: unknown) => {
    // The metrics listener binds first (at init) and names itself; anything else here is PORT's.
    throw !(error instanceof ListenError) && (error as NodeJS.ErrnoException).syscall === 'listen' ? new ListenError(http, error) : error;
  });
  stopWithNpmParent(() => process.kill(process.pid, 'SIGTERM'));
  // For the CLI on this machine: a wildcard HOST is reached through loopback. Nest names the
  // Fastify listener http:// whatever it serves, so the scheme comes from the configuration.
  const url = (await app.getUrl()).replace('[::1]', 'localhost').replace(/^https?:/, config.tls ? 'https:' : 'http:');
  lock.announce({ pid: process.pid, url });
  // Fastify logs "Server listening" as JSON; this plain line is for people and scripts (the
  // tests and the benchmark wait for it). It names the address as bound: HOST=0.0.0.0 is not
  // "127.0.0.1", and whoever set it should see how far the service is reachable.
  const listening = isLoopback(config.host) ? url : boundUrl(config.tls ? 'https' : 'http', config.host, Number(new URL(url).port));
  process.stdout.write(`secrets-ledger listening on ${listening} (console /, API /api/v1, docs /docs)\n`);
  const warning = plainHttpWarning(config.host, config.tls !== undefined);
  if (warning) process.stderr.write(`${warning}\n`);
}
