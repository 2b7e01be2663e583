import { Module } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import { SQLITE } from '../storage/database.module';
import { AuditController } from './audit.controller';
import { AuditLog } from './audit-log';
import { ChainMonitor } from './chain-monitor';

@Module({
  controllers: [AuditController],
  providers: [{ provide: AuditLog, inject: [SQLITE], useFactory: (db: Database) => new AuditLog(db) }, ChainMonitor],
})
export class AuditModule {}
