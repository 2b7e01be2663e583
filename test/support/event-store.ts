import type { Database } from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { MasterKeyring } from '../../src/crypto/master-keyring';
import { Clock, EventStore, systemClock } from '../../src/event-store/event-store';
import type { Storage } from '../../src/storage/sql';
import { openSqlite } from '../../src/storage/database.module';

/** The log on a migrated SQLite file in `dir`, without the Nest app: for tests that inject a clock. */
export async function openEventStore(
  dir: string,
  clock: Clock = systemClock,
): Promise<{ db: Database; store: EventStore; storage: Storage; close: () => Promise<void> }> {
  const { storage, sqlite: db, close } = await openSqlite(join(dir, 'secrets.db'));
  return { db, store: new EventStore(new MasterKeyring([{ kid: 'k', key: randomBytes(32) }]), clock), storage, close };
}
