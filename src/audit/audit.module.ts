import { Module } from '@nestjs/common';
import { STORAGE, Storage } from '../storage/sql';
import { AuditController } from './audit.controller';
import { AuditLog } from './audit-log';
import { ChainMonitor } from './chain-monitor';

@Module({
  controllers: [AuditController],
  providers: [{ provide: AuditLog, inject: [STORAGE], useFactory: (storage: Storage) => new AuditLog(storage.reader) }, ChainMonitor],
})
export class AuditModule {}
