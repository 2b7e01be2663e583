import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Actor } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { StoredEventType } from '../event-store/stored-event-types';
import type { Storage } from '../storage/sql';
import { AccessDeniedRecorder } from './access-denied.recorder';
import { Principal, actorOf } from './principal';
import { RefusalRecorder } from './refusal-recorder';

/** Who an unauthenticated request is: nobody we know. Never anything of the token it presented. */
export const ANONYMOUS_ACTOR: Actor = { id: 'anonymous', name: 'anonymous', role: 'none' };

export type AuthenticationFailure = 'no-token' | 'malformed-token' | 'unknown-token';

const BOUNDS = { perWindow: 10, totalPerWindow: 100, windowMs: 60_000, tracked: 10_000, flushedPerWindow: 100 };

/** Failed authentications, counted per client address into `AuthenticationFailed` events. */
export class AuthenticationFailures {
  private readonly refusals: RefusalRecorder;

  constructor(storage: Storage, store: EventStore, now: () => number = Date.now) {
    this.refusals = new RefusalRecorder(storage, store, StoredEventType.AuthenticationFailed, 'authentication-failures', BOUNDS, (clientAddress) => ({ clientAddress }), now);
  }

  record(clientAddress: string, reason: AuthenticationFailure, action: string): Promise<void> {
    return this.refusals.record({ by: clientAddress, actor: ANONYMOUS_ACTOR, data: { clientAddress, reason, action } });
  }

  flush(): Promise<void> {
    return this.refusals.flush();
  }
}

/** Requests refused for exceeding their token's rate limit, counted per token into `RateLimited` events. */
export class RateLimitRefusals {
  private readonly refusals: RefusalRecorder;

  constructor(storage: Storage, store: EventStore, now: () => number = Date.now) {
    this.refusals = new RefusalRecorder(storage, store, StoredEventType.RateLimited, 'rate-limited', BOUNDS, () => ({}), now);
  }

  record(principal: Principal, action: string): Promise<void> {
    return this.refusals.record({ by: principal.id, actor: actorOf(principal), data: { action } });
  }

  flush(): Promise<void> {
    return this.refusals.flush();
  }
}

export const REFUSAL_FLUSH_INTERVAL_MS = 60_000;

/**
 * Writes the suppressed counts of every refusal recorder once a window and at shutdown, so a
 * burst that stops is still counted in the trail (a bound that only reports in the next record
 * would keep a burst that never comes back in memory for ever, and lose it at exit).
 */
@Injectable()
export class RefusalCountsFlusher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private readonly logger = new Logger('RefusalCounts');

  constructor(
    private readonly denied: AccessDeniedRecorder,
    private readonly failures: AuthenticationFailures,
    private readonly limited: RateLimitRefusals,
  ) {}

  onApplicationBootstrap(): void {
    // A failed flush keeps its counts for the next one (they are reset only once written).
    this.timer = setInterval(
      () => void this.flush().catch((error: unknown) => this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not write refusal counts')),
      REFUSAL_FLUSH_INTERVAL_MS,
    );
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  async flush(): Promise<void> {
    await this.denied.flush();
    await this.failures.flush();
    await this.limited.flush();
  }
}
