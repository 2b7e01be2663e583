import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { Database } from 'better-sqlite3';
import { EventStore } from '../event-store/event-store';
import { SQLITE } from '../storage/database.module';
import { SqliteWriter } from '../storage/sqlite-writer';
import { AccessDeniedRecorder } from './access-denied.recorder';
import { AuthGuard } from './auth.guard';
import { TokensController } from './tokens.controller';
import { ANNOUNCE } from './tokens.service';
import { TokensRepository } from './tokens-repository';
import { TokensService } from './tokens.service';
import { WhoamiController } from './whoami.controller';

@Global()
@Module({
  controllers: [TokensController, WhoamiController],
  providers: [
    TokensService,
    { provide: TokensRepository, inject: [SQLITE], useFactory: (db: Database) => new TokensRepository(db) },
    {
      provide: AccessDeniedRecorder,
      inject: [SqliteWriter, EventStore],
      useFactory: (writer: SqliteWriter, store: EventStore) => new AccessDeniedRecorder(writer, store),
    },
    { provide: ANNOUNCE, useValue: (message: string) => process.stdout.write(message) },
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [TokensService, AccessDeniedRecorder],
})
export class AuthModule {}
