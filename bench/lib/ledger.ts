import type { Database } from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { MasterKeyring } from '../../src/crypto/master-keyring';
import { SecretValue } from '../../src/crypto/secret-value';
import { EventStore } from '../../src/event-store/event-store';
import { SecretsReadModel } from '../../src/secrets/secrets-read-model';
import { applySecretCommand } from '../../src/secrets/secrets.service';
import type { Storage } from '../../src/storage/sql';
import { openSqlite } from '../../src/storage/database.module';
import { progress } from './report';

export interface Ledger {
  db: Database;
  store: EventStore;
  readModel: SecretsReadModel;
  storage: Storage;
  close: () => Promise<void>;
}

/** The storage layer of a data dir, opened in-process (migrations included), for seeding. */
export async function openLedger(databasePath: string, masterKeys: string): Promise<Ledger> {
  const { storage, sqlite: db, close } = await openSqlite(databasePath);
  const [kid, key] = masterKeys.split(':');
  const store = new EventStore(new MasterKeyring([{ kid, key: Buffer.from(key, 'base64') }]));
  return { db, store, readModel: new SecretsReadModel(), storage, close };
}

export function newMasterKeys(): string {
  return `bench-1:${randomBytes(32).toString('base64')}`;
}

/**
 * Seeds a log of `events` secret events over `keys` keys through the real command path
 * (decide, seal, hash, project): first an add per key, then updates round-robin.
 */
export async function seedSecrets(ledger: Ledger, events: number, keys: number): Promise<void> {
  const batch = 5_000;
  for (let done = 0; done < events; done += batch) {
    await ledger.storage.transact(async (tx) => {
      for (let i = done; i < Math.min(events, done + batch); i++) {
        const key = `SEED_${i % keys}`;
        const command =
          i < keys
            ? { type: 'AddSecret' as const, key, value: new SecretValue(`seed-value-${i}`), description: `seeded ${i}` }
            : { type: 'UpdateSecret' as const, key, value: new SecretValue(`seed-value-${i}`) };
        await applySecretCommand(tx, ledger.store, ledger.readModel, command, SYSTEM_ACTOR);
      }
    });
    if ((done / batch) % 10 === 0) progress(`  seeded ${Math.min(events, done + batch)}/${events} events`);
  }
}
