import { Module } from '@nestjs/common';
import { KeyHolderHeartbeat } from './key-holder-heartbeat';
import { MasterKeysController } from './master-keys.controller';
import { MasterKeysService } from './master-keys.service';

@Module({
  controllers: [MasterKeysController],
  providers: [MasterKeysService, KeyHolderHeartbeat],
})
export class MasterKeysModule {}
