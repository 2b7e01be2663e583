import { Global, Logger, Module } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/configuration';
import { MasterKeyring, loadKeyring } from '../crypto/master-keyring';
import { SQLITE } from '../storage/database.module';
import { SqliteWriter } from '../storage/sqlite-writer';
import { EventStore } from './event-store';

@Global()
@Module({
  providers: [
    {
      provide: MasterKeyring,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        const { keyring, generatedFile } = loadKeyring(config.masterKeys, config.dataDir);
        if (generatedFile) {
          new Logger('MasterKeys').warn(
            `SECRETS_MASTER_KEYS is unset: using the development key file ${generatedFile} (mode 0600). ` +
              'Anyone who can read it can decrypt every secret. Set SECRETS_MASTER_KEYS in production.',
          );
        }
        return keyring;
      },
    },
    {
      provide: EventStore,
      inject: [SQLITE, SqliteWriter, MasterKeyring],
      useFactory: (db: Database, writer: SqliteWriter, keyring: MasterKeyring) => new EventStore(db, writer, keyring),
    },
  ],
  exports: [MasterKeyring, EventStore],
})
export class EventStoreModule {}
