import { Logger } from '@nestjs/common';
import { ANY_VERSION, EventStore } from '../event-store/event-store';
import { asStorageUnavailable } from '../storage/storage-fault';
import { SqliteWriter } from '../storage/sqlite-writer';
import { Principal, actorOf } from './principal';

export const ACCESS_DENIED = 'AccessDenied';
export const ACCESS_STREAM = 'access-denied';

/**
 * Records refusals as `AccessDenied` events, with a bound: each principal gets at most
 * `perWindow` recorded refusals per `windowMs`. Refusals beyond that are counted, not written,
 * and the count travels in the next recorded event as `suppressed`, so a flood of refused
 * requests costs a few rows a minute instead of filling the disk, and the trail still says how
 * many there were. A refusal that cannot be recorded because storage is unavailable is still a
 * refusal (403, never a 503 or 500): it is counted as suppressed and travels in the next
 * recorded event.
 */
export class AccessDeniedRecorder {
  private readonly logger = new Logger('AccessDenied');
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
    try {
      await this.writer.write(() =>
        this.store.appendToStream(
          ACCESS_STREAM,
          ANY_VERSION,
          [{ type: ACCESS_DENIED, data: { action, suppressed, ...(keys ? { keys } : {}) }, keys }],
          actorOf(principal),
        ),
      );
    } catch (error) {
      const fault = asStorageUnavailable(error);
      if (!fault) throw error;
      window.suppressed += suppressed + 1;
      this.logger.warn(`a refusal of ${principal.id} could not be recorded (${fault.reason}); it is counted in the next AccessDenied`);
    }
  }
}
