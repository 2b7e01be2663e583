import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig, POSTGRES_LIMIT_DEFAULTS, PostgresLimits, describeDatabaseUrl } from '../config/configuration';
import { MIGRATIONS } from './migrations';
import { openPostgres } from './postgres/open-postgres';
import { PostgresStorage } from './postgres/postgres-storage';
import { STORAGE, Storage } from './sql';
import { SqliteStorage, applyPragmas } from './sqlite/sqlite-storage';
import { SQLITE } from './sqlite-token';
import { StorageReadiness } from './storage-readiness';

export { SQLITE, STORAGE, applyPragmas };

export function dataSourceOptions(databasePath: string) {
  return {
    type: 'better-sqlite3' as const,
    database: databasePath,
    migrations: MIGRATIONS,
    migrationsRun: true,
    synchronize: false,
    prepareDatabase: (db: Database) => applyPragmas(db),
  };
}

export function rawConnection(dataSource: DataSource): Database {
  return (dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection;
}

/** The storage the configuration names, migrated, with what closes it. */
export interface OpenedStorage {
  storage: Storage;
  /** SQLite only: the writer's raw connection (maintenance tools and tests). */
  sqlite?: Database;
  close(): Promise<void>;
}

/** SQLite file in the data dir: TypeORM runs the migrations on the connection the writer then uses. */
export async function openSqlite(databasePath: string): Promise<OpenedStorage & { storage: SqliteStorage; sqlite: Database }> {
  const dataSource = await new DataSource(dataSourceOptions(databasePath)).initialize();
  const db = rawConnection(dataSource);
  const storage = new SqliteStorage(db);
  return {
    storage,
    sqlite: db,
    close: async () => {
      await storage.close();
      await dataSource.destroy();
    },
  };
}

/** PostgreSQL at `url`, migrated once however many instances start together. */
export async function openPostgresStorage(url: string, limits: PostgresLimits = POSTGRES_LIMIT_DEFAULTS): Promise<OpenedStorage & { storage: PostgresStorage }> {
  const opened = await openPostgres(url, { limits }).catch((error: unknown) => {
    // One line that names the server, never the credentials (the driver's message names neither).
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot open the PostgreSQL database ${describeDatabaseUrl(url)}: ${reason}`);
  });
  const storage = new PostgresStorage(opened.pool, url, limits);
  return {
    storage,
    close: async () => {
      await storage.close();
      await opened.close();
    },
  };
}

/** SPEC §8: DATABASE_URL unset is SQLite in the data dir; a postgres:// URL is PostgreSQL. */
export function openStorage(config: AppConfig): Promise<OpenedStorage> {
  return config.databaseUrl === undefined ? openSqlite(config.databasePath) : openPostgresStorage(config.databaseUrl, config.postgres);
}

const OPENED_STORAGE = Symbol('OPENED_STORAGE');

/** Waits for queued writes and closes the connections at shutdown. */
class StorageShutdown implements OnApplicationShutdown {
  constructor(@Inject(OPENED_STORAGE) private readonly opened: OpenedStorage) {}

  async onApplicationShutdown(): Promise<void> {
    await this.opened.close();
  }
}

@Global()
@Module({
  providers: [
    { provide: OPENED_STORAGE, inject: [APP_CONFIG], useFactory: openStorage },
    { provide: STORAGE, inject: [OPENED_STORAGE], useFactory: (opened: OpenedStorage) => opened.storage },
    { provide: SQLITE, inject: [OPENED_STORAGE], useFactory: (opened: OpenedStorage) => opened.sqlite ?? null },
    StorageShutdown,
    StorageReadiness,
  ],
  exports: [SQLITE, STORAGE],
})
export class DatabaseModule {}
