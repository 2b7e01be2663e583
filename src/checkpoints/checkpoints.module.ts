import { Module } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/configuration';
import { EventStore } from '../event-store/event-store';
import { RelayCheckpoints } from '../nats/relay-checkpoints';
import { STORAGE, Storage } from '../storage/sql';
import { CheckpointDuty } from './checkpoint-duty';
import { CheckpointShipper } from './checkpoint-shipper';
import { CheckpointWriter } from './checkpoint-writer';
import { CheckpointsController } from './checkpoints.controller';
import { SigningKey, loadSigningKey } from './signing-key';
import { sinkTarget } from './sink-targets';

/** Signed checkpoints of the log (SPEC §3): written, shipped off the box, listed and verified against. */
@Module({
  controllers: [CheckpointsController],
  providers: [
    { provide: SigningKey, inject: [APP_CONFIG], useFactory: (config: AppConfig) => loadSigningKey(config.checkpoints.signingKeyFile, config.dataDir) },
    {
      provide: CheckpointWriter,
      inject: [EventStore, SigningKey, APP_CONFIG],
      useFactory: (store: EventStore, key: SigningKey, config: AppConfig) => new CheckpointWriter(store, key, config.checkpoints),
    },
    {
      provide: CheckpointShipper,
      inject: [APP_CONFIG, STORAGE],
      useFactory: (config: AppConfig, storage: Storage) =>
        new CheckpointShipper(config.checkpoints.sink && sinkTarget(config.checkpoints.sink), storage, new RelayCheckpoints()),
    },
    { provide: AuditLog, inject: [STORAGE], useFactory: (storage: Storage) => new AuditLog(storage.reader) },
    CheckpointDuty,
  ],
  exports: [CheckpointShipper],
})
export class CheckpointsModule {}
