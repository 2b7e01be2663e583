import { Module } from '@nestjs/common';
import { SecretsController } from './http/secrets.controller';
import { SecretsReadModel } from './secrets-read-model';
import { SecretsService } from './secrets.service';

@Module({
  controllers: [SecretsController],
  providers: [SecretsService, SecretsReadModel],
  exports: [SecretsService, SecretsReadModel],
})
export class SecretsModule {}
