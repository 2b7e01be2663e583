import { Global, Module } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { Database } from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/configuration';
import { MIGRATIONS } from './migrations';
import { SqliteWriter } from './sqlite-writer';
import { SQLITE } from './sqlite-token';
import { StorageReadiness } from './storage-readiness';

export { SQLITE };

/**
 * WAL lets readers proceed during a write; `synchronous=FULL` makes every COMMIT survive power
 * loss, which is what "acknowledged" means for a secrets store; the busy timeout covers the
 * CLI (rotate, rebuild) writing to the same file as a running service.
 */
export function applyPragmas(db: Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
}

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
    { provide: SqliteWriter, inject: [SQLITE], useFactory: (db: Database) => new SqliteWriter(db) },
    StorageReadiness,
  ],
  exports: [SQLITE, SqliteWriter],
})
export class DatabaseModule {}
