import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { Database } from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/configuration';
import { MIGRATIONS } from './migrations';
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

/** Waits for queued writes and closes the storage's own connections before TypeORM's go. */
class StorageShutdown implements OnApplicationShutdown {
  constructor(@Inject(STORAGE) private readonly storage: Storage) {}

  async onApplicationShutdown(): Promise<void> {
    await this.storage.close();
  }
}

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => dataSourceOptions(config.databasePath),
    }),
  ],
  providers: [
    { provide: SQLITE, inject: [getDataSourceToken()], useFactory: rawConnection },
    { provide: STORAGE, inject: [SQLITE], useFactory: (db: Database) => new SqliteStorage(db) },
    StorageShutdown,
    StorageReadiness,
  ],
  exports: [SQLITE, STORAGE],
})
export class DatabaseModule {}
