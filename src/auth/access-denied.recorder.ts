import { EventStore } from '../event-store/event-store';
import { StoredEventType } from '../event-store/stored-event-types';
import type { Storage } from '../storage/sql';
import { Principal, actorOf } from './principal';
import { RefusalRecorder } from './refusal-recorder';

export const ACCESS_STREAM = 'access-denied';

/**
 * Records refusals as `AccessDenied` events, with a bound: each principal gets at most
 * `perWindow` recorded refusals per `windowMs`; the rest are counted, not written, and the count
 * travels in the next recorded event (or the next flush) as `suppressed`.
 */
export class AccessDeniedRecorder {
  private readonly refusals: RefusalRecorder;

  constructor(storage: Storage, store: EventStore, perWindow = 10, windowMs = 60_000, now: () => number = Date.now) {
    this.refusals = new RefusalRecorder(
      storage,
      store,
      StoredEventType.AccessDenied,
      ACCESS_STREAM,
      { perWindow, totalPerWindow: 100 * perWindow, windowMs, tracked: 10_000, flushedPerWindow: 100 },
      () => ({}),
      now,
    );
  }

  /** `keys`: the secret keys a refused read asked for, so that each key's audit trail shows it. */
  record(principal: Principal, action: string, keys?: readonly string[]): Promise<void> {
    return this.refusals.record({ by: principal.id, actor: actorOf(principal), data: { action, ...(keys ? { keys } : {}) }, keys });
  }

  flush(): Promise<void> {
    return this.refusals.flush();
  }
}
