import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { ConfigModule } from '../config/config.module';
import { describeDatabaseUrl, type AppConfig } from '../config/configuration';
import { EventStoreModule } from '../event-store/event-store.module';
import { SecretsReadModel } from '../secrets/secrets-read-model';
import { DatabaseModule } from '../storage/database.module';
import { announceDatabase, existingDatabase } from './existing-database';

/**
 * What the maintenance commands need — the database (migrated), the keyring, the event store
 * and the read model — without the service around it: no HTTP, no NATS connection, no relay
 * publishing a backlog, no admin token generated as a side effect.
 */
@Module({})
class LedgerModule {
  static forRoot(config: AppConfig) {
    return {
      module: LedgerModule,
      imports: [ConfigModule.forRoot(config), DatabaseModule, EventStoreModule],
      providers: [SecretsReadModel],
      exports: [SecretsReadModel],
    };
  }
}

export async function withLedger<T>(config: AppConfig, work: (ledger: INestApplicationContext) => Promise<T>): Promise<T> {
  // On SQLite the file must be there already (a typo must not create an empty ledger); a
  // PostgreSQL database is whatever DATABASE_URL names, migrated like the service's. Either is
  // named on stderr (a URL without its credentials), so nobody mistakes which one was changed.
  if (config.databaseUrl === undefined) existingDatabase(config.databasePath);
  else announceDatabase(describeDatabaseUrl(config.databaseUrl));
  const ledger = await NestFactory.createApplicationContext(LedgerModule.forRoot(config), { logger: ['error', 'warn'] });
  try {
    return await work(ledger);
  } finally {
    await ledger.close();
  }
}
