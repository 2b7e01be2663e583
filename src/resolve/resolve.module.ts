import { Module } from '@nestjs/common';
import { ConsumersModule } from '../consumers/consumers.module';
import { SecretsModule } from '../secrets/secrets.module';
import { ResolveController } from './resolve.controller';
import { DeliveryRecords } from './delivery-records';
import { ResolveService } from './resolve.service';
import { UnreadableValues } from './unreadable-values';

@Module({
  imports: [SecretsModule, ConsumersModule],
  controllers: [ResolveController],
  providers: [ResolveService, UnreadableValues, DeliveryRecords],
  exports: [ResolveService, DeliveryRecords],
})
export class ResolveModule {}
