import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import type { Database } from 'better-sqlite3';
import { SQLITE } from '../storage/database.module';
import { SecretsController } from './http/secrets.controller';
import { SecretsReadModel } from './secrets-read-model';
import { SecretsService } from './secrets.service';

@Module({
  imports: [DiscoveryModule],
  controllers: [SecretsController],
  providers: [
    SecretsService,
    { provide: SecretsReadModel, inject: [SQLITE], useFactory: (db: Database) => new SecretsReadModel(db) },
  ],
  exports: [SecretsService, SecretsReadModel],
})
export class SecretsModule {}
