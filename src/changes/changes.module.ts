import { Module } from '@nestjs/common';
import { ResolveModule } from '../resolve/resolve.module';
import { ChangeFeed } from './change-feed';
import { ChangeLog } from './change-log';
import { ChangesController } from './changes.controller';
import { OpenStreams } from './open-streams';
import { ValuePushes } from './value-pushes';

/** SPEC §3 `GET /api/v1/changes`: the secret-state changes, from the log, as server-sent events. */
@Module({
  imports: [ResolveModule],
  controllers: [ChangesController],
  providers: [ChangeLog, ChangeFeed, OpenStreams, ValuePushes],
})
export class ChangesModule {}
