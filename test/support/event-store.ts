import type { Database } from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { MasterKeyring } from '../../src/crypto/master-keyring';
import { Clock, EventStore, systemClock } from '../../src/event-store/event-store';
import { dataSourceOptions, rawConnection } from '../../src/storage/database.module';
import { SqliteWriter } from '../../src/storage/sqlite-writer';

/** The log on a migrated SQLite file in `dir`, without the Nest app: for tests that inject a clock. */
export async function openEventStore(
  dir: string,
  clock: Clock = systemClock,
): Promise<{ db: Database; store: EventStore; writer: SqliteWriter; close: () => Promise<void> }> {
  const dataSource = await new DataSource(dataSourceOptions(join(dir, 'secrets.db'))).initialize();
  const db = rawConnection(dataSource);
  const writer = new SqliteWriter(db);
  return {
    db,
    store: new EventStore(db, writer, new MasterKeyring([{ kid: 'k', key: randomBytes(32) }]), clock),
    writer,
    close: () => dataSource.destroy(),
  };
}
