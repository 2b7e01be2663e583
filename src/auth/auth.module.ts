import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { EventStore } from '../event-store/event-store';
import { STORAGE, Storage } from '../storage/sql';
import { AccessDeniedRecorder } from './access-denied.recorder';
import { AuthGuard } from './auth.guard';
import { AuthenticationFailures, RateLimitRefusals, RefusalCountsFlusher } from './refusals';
import { TokenIntegrity } from './token-integrity';
import { TokenLastUse } from './token-last-use';
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
    TokensRepository,
    TokenIntegrity,
    TokenLastUse,
    {
      provide: AccessDeniedRecorder,
      inject: [STORAGE, EventStore],
      useFactory: (storage: Storage, store: EventStore) => new AccessDeniedRecorder(storage, store),
    },
    {
      provide: AuthenticationFailures,
      inject: [STORAGE, EventStore],
      useFactory: (storage: Storage, store: EventStore) => new AuthenticationFailures(storage, store),
    },
    {
      provide: RateLimitRefusals,
      inject: [STORAGE, EventStore],
      useFactory: (storage: Storage, store: EventStore) => new RateLimitRefusals(storage, store),
    },
    RefusalCountsFlusher,
    { provide: ANNOUNCE, useValue: (message: string) => process.stdout.write(message) },
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [TokensService, TokenIntegrity, AccessDeniedRecorder, AuthenticationFailures, RateLimitRefusals],
})
export class AuthModule {}
