import { Global, Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/configuration';
import { warnOfDevKeyFile } from '../crypto/dev-key-file';
import { MasterKeyring, loadKeyring } from '../crypto/master-keyring';
import { STORAGE, Storage } from '../storage/sql';
import { EventStore } from './event-store';

@Global()
@Module({
  providers: [
    {
      provide: MasterKeyring,
      inject: [APP_CONFIG, STORAGE],
      useFactory: async (config: AppConfig, storage: Storage) => {
        const storeHasValues = (await storage.reader.get('SELECT 1 AS one FROM data_keys LIMIT 1')) !== undefined;
        const keyring = loadKeyring(config.masterKeys, config.dataDir, storeHasValues);
        if (keyring.devKeyFile) {
          warnOfDevKeyFile(
            keyring.devKeyFile,
            ['WARNING: SECRETS_MASTER_KEYS is unset. Every secret is sealed', 'with the development key file'],
            ['Anyone who can read it can decrypt every secret. Set', 'SECRETS_MASTER_KEYS (kid:base64key,...) in production.'],
          );
        }
        return keyring;
      },
    },
    {
      provide: EventStore,
      inject: [MasterKeyring],
      useFactory: (keyring: MasterKeyring) => new EventStore(keyring),
    },
  ],
  exports: [MasterKeyring, EventStore],
})
export class EventStoreModule {}
