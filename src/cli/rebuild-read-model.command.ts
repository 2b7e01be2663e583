import type { AppConfig } from '../config/configuration';
import { rebuildConsumers } from '../consumers/consumers-rebuild';
import { SecretConsumers } from '../consumers/secret-consumers';
import { EventStore } from '../event-store/event-store';
import { SECRET_EVENT_TYPES, StoredEventType } from '../event-store/stored-event-types';
import { rebuildReadModel } from '../secrets/read-model-rebuild';
import { SecretsReadModel } from '../secrets/secrets-read-model';
import { DataDirLock, announcedService } from '../storage/data-dir-lock';
import { STORAGE, Storage } from '../storage/sql';
import { existingDatabase } from './existing-database';
import { withLedger } from './ledger-context';
import { progressReporter } from './progress';

/**
 * A rebuild is maintenance on a stopped service: on SQLite it takes the data dir's lock, so it
 * refuses while a service holds it, and a service started meanwhile refuses to start. On
 * PostgreSQL no process owns the database; the rebuild is one transaction that takes the log's
 * append lock, so instances' writes wait for it and readers see the old model or the new one.
 */
export async function rebuildReadModelCommand(config: AppConfig): Promise<void> {
  if (config.databaseUrl !== undefined) return rebuild(config);
  existingDatabase(config.databasePath);
  const lock = DataDirLock.tryAcquire(config.dataDir);
  if (!lock) {
    const service = announcedService(config.dataDir);
    const who = service ? `a service (pid ${service.pid}, ${service.url})` : 'another secrets-ledger process';
    throw new Error(`${who} holds the data dir ${config.dataDir}: stop it before rebuilding the read model`);
  }
  try {
    await rebuild(config);
  } finally {
    lock.release();
  }
}

async function rebuild(config: AppConfig): Promise<void> {
  await withLedger(config, async (ledger) => {
    const store = ledger.get(EventStore);
    const storage = ledger.get<Storage>(STORAGE);
    const progress = progressReporter('replaying secret events', await store.count(storage.reader, SECRET_EVENT_TYPES));
    const result = await rebuildReadModel(storage, store, ledger.get(SecretsReadModel), progress.update);
    progress.stop();
    process.stdout.write(`rebuilt the read model from ${result.events} events: ${result.secrets} keys, revision ${result.revision}\n`);
    // Who holds which version is a projection of the log too (SecretsResolved entries).
    const entries = progressReporter('replaying resolve entries', await store.count(storage.reader, [StoredEventType.SecretsResolved]));
    const consumers = await rebuildConsumers(storage, store, new SecretConsumers(), entries.update);
    entries.stop();
    process.stdout.write(`rebuilt who holds which version from ${consumers.entries} resolve entries: ${consumers.rows} rows\n`);
  });
}
