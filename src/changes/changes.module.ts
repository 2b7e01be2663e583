import { Module } from '@nestjs/common';
import { ChangeFeed } from './change-feed';
import { ChangeLog } from './change-log';
import { ChangesController } from './changes.controller';
import { OpenStreams } from './open-streams';

/** SPEC §3 `GET /api/v1/changes`: the secret-state changes, from the log, as server-sent events. */
@Module({
  controllers: [ChangesController],
  providers: [ChangeLog, ChangeFeed, OpenStreams],
})
export class ChangesModule {}
