import { Module } from '@nestjs/common';
import { MasterKeysController } from './master-keys.controller';
import { MasterKeysService } from './master-keys.service';

@Module({
  controllers: [MasterKeysController],
  providers: [MasterKeysService],
})
export class MasterKeysModule {}
