import { ANY_VERSION, EventStore } from '../event-store/event-store';
import { SqliteWriter } from '../storage/sqlite-writer';
import { Principal, actorOf } from './principal';

export const ACCESS_DENIED = 'AccessDenied';
export const ACCESS_STREAM = 'access-denied';

/**
 * Records refusals as `AccessDenied` events, with a bound: each principal gets at most
 * `perWindow` recorded refusals per `windowMs`. Refusals beyond that are counted, not written,
 * and the count travels in the next recorded event as `suppressed`, so a flood of refused
 * requests costs a few rows a minute instead of filling the disk, and the trail still says how
 * many there were.
 */
export class AccessDeniedRecorder {
  private readonly windows = new Map<string, { start: number; recorded: number; suppressed: number }>();

  constructor(
    private readonly writer: SqliteWriter,
    private readonly store: EventStore,
    private readonly perWindow = 10,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** `keys`: the secret keys a refused read asked for, so that each key's audit trail shows it. */
  async record(principal: Principal, action: string, keys?: readonly string[]): Promise<void> {
    const now = this.now();
    let window = this.windows.get(principal.id);
    if (!window || now - window.start >= this.windowMs) {
      window = { start: now, recorded: 0, suppressed: window?.suppressed ?? 0 };
      this.windows.set(principal.id, window);
    }
    if (window.recorded >= this.perWindow) {
      window.suppressed += 1;
      return;
    }
    window.recorded += 1;
    const suppressed = window.suppressed;
    window.suppressed = 0;
    await this.writer.write(() =>
      this.store.appendToStream(
        ACCESS_STREAM,
        ANY_VERSION,
        [{ type: ACCESS_DENIED, data: { action, suppressed, ...(keys ? { keys } : {}) }, keys }],
        actorOf(principal),
      ),
    );
  }
}
