import type { Database } from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { dataSourceOptions, rawConnection } from '../database.module';
import { SqliteStorage } from './sqlite-storage';

/** A migrated SQLite file as the storage port, without the Nest app (tests, benchmarks, tools). */
export async function openSqliteStorage(databasePath: string): Promise<{ storage: SqliteStorage; db: Database; close: () => Promise<void> }> {
  const dataSource = await new DataSource(dataSourceOptions(databasePath)).initialize();
  const db = rawConnection(dataSource);
  const storage = new SqliteStorage(db);
  return {
    storage,
    db,
    close: async () => {
      await storage.close();
      await dataSource.destroy();
    },
  };
}
