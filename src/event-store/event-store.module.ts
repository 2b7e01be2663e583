import { Global, Module } from '@nestjs/common';
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
      inject: [APP_CONFIG, SQLITE],
      useFactory: (config: AppConfig, db: Database) => {
        const storeHasValues = db.prepare('SELECT 1 FROM data_keys LIMIT 1').get() !== undefined;
        const keyring = loadKeyring(config.masterKeys, config.dataDir, storeHasValues);
        if (keyring.devKeyFile) {
          // A banner on stderr, like the admin token's: one JSON line among the route mappings
          // is a warning nobody reads.
          process.stderr.write(
            [
              '',
              '================================================================',
              ' WARNING: SECRETS_MASTER_KEYS is unset. Every secret is sealed',
              ' with the development key file',
              '',
              `   ${keyring.devKeyFile}   (mode 0600)`,
              '',
              ' Anyone who can read it can decrypt every secret. Set',
              ' SECRETS_MASTER_KEYS (kid:base64key,...) in production.',
              '================================================================',
              '',
            ].join('\n'),
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
