import { Module } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import { SQLITE } from '../storage/database.module';
import { SecretsController } from './http/secrets.controller';
import { SECRET_CHANGE_LISTENERS } from './secret-change-listener';
import { SecretsReadModel } from './secrets-read-model';
import { SecretsService } from './secrets.service';

@Module({
  controllers: [SecretsController],
  providers: [
    SecretsService,
    { provide: SecretsReadModel, inject: [SQLITE], useFactory: (db: Database) => new SecretsReadModel(db) },
    // The NATS relay registers here once notifications exist (issue 4).
    { provide: SECRET_CHANGE_LISTENERS, useValue: [] },
  ],
  exports: [SecretsService, SecretsReadModel],
})
export class SecretsModule {}
