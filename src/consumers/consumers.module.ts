import { Module } from '@nestjs/common';
import { SecretsModule } from '../secrets/secrets.module';
import { ConsumersController } from './consumers.controller';
import { ConsumersService } from './consumers.service';
import { SecretConsumers } from './secret-consumers';

/** Who holds which version: the projection the resolves write, and the route that reads it. */
@Module({
  imports: [SecretsModule],
  controllers: [ConsumersController],
  providers: [ConsumersService, SecretConsumers],
  exports: [ConsumersService, SecretConsumers],
})
export class ConsumersModule {}
