import { join } from 'node:path';
import { OpenedStorage, openPostgresStorage, openSqlite } from '../../src/storage/database.module';
import type { Engine } from '../../src/storage/sql';
import { freshDatabase } from './postgres';
import { tempDataDir } from './test-app';

/** A freshly migrated store on one engine: its own SQLite file, or its own PostgreSQL database. */
export interface TestStorage extends OpenedStorage {
  engine: Engine;
  /** Another instance on the same database (PostgreSQL) or a second handle on the file (SQLite tools). */
  openAnother(): Promise<OpenedStorage>;
  cleanup(): Promise<void>;
}

export const ENGINES: readonly Engine[] = ['sqlite', 'postgres'];

export async function openTestStorage(engine: Engine, label = 'contract'): Promise<TestStorage> {
  if (engine === 'sqlite') {
    const dir = tempDataDir();
    const path = join(dir.dir, 'secrets.db');
    const opened = await openSqlite(path);
    return {
      ...opened,
      engine,
      openAnother: () => openSqlite(path),
      cleanup: async () => {
        await opened.close();
        dir.cleanup();
      },
    };
  }
  const database = await freshDatabase(label);
  const opened = await openPostgresStorage(database.url);
  return {
    ...opened,
    engine,
    openAnother: () => openPostgresStorage(database.url),
    cleanup: async () => {
      await opened.close();
      await database.drop();
    },
  };
}
