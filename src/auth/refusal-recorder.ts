import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { Actor } from '../event-store/event';
import { ANY_VERSION, EventStore } from '../event-store/event-store';
import type { StoredEventType } from '../event-store/stored-event-types';
import type { Storage } from '../storage/sql';
import { asStorageUnavailable } from '../storage/storage-fault';

/** One refusal as a recorder is told of it: who (the bound's key), as whom, and what. */
export interface Refusal {
  /** What the bound counts by: a principal id, a client address. */
  by: string;
  actor: Actor;
  data: Record<string, unknown>;
  keys?: readonly string[];
}

export interface RefusalBounds {
  /** Recorded refusals per `by` and window; the rest are counted, not written. */
  perWindow: number;
  /** Recorded refusals per window across every `by`, so that many addresses cannot fill the log either. */
  totalPerWindow: number;
  windowMs: number;
  /** How many `by`s are tracked at once (memory); the least recent ones' counts are pooled. */
  tracked: number;
  /** How many `by`s a flush writes one event each for; the others share one event. */
  flushedPerWindow: number;
}

interface Window {
  start: number;
  recorded: number;
  suppressed: number;
  actor: Actor;
}

/** Counts of refusals of `by`s no longer tracked, or past a flush's bound, share one event as these. */
export const OTHERS = 'others';
const OTHERS_ACTOR: Actor = { id: OTHERS, name: OTHERS, role: 'none' };

/**
 * Records refusals (denied roles, failed authentications) as audit events, with a bound, so a
 * flood costs a few rows a minute instead of filling the disk while the trail still says how
 * many there were: each `by` gets at most `perWindow` recorded refusals a window (and all of
 * them together `totalPerWindow`); the others are counted and the count travels in the next
 * recorded event as `suppressed`. A burst that never comes back would leave its count only in
 * memory: `flush()` (on a timer and at shutdown) writes whatever is still counted.
 */
export class RefusalRecorder {
  private readonly logger = new Logger('Refusals');
  private readonly windows: LRUCache<string, Window>;
  private totalWindow = { start: Number.NEGATIVE_INFINITY, recorded: 0 };
  /** Counted refusals of `by`s the LRU dropped: never lost, written with the next flush. */
  private pooled = 0;

  constructor(
    private readonly storage: Storage,
    private readonly store: EventStore,
    private readonly type: StoredEventType,
    private readonly stream: string,
    private readonly bounds: RefusalBounds,
    /** Data that identifies a `by` in a flushed event (e.g. `{clientAddress}`), beside `suppressed`. */
    private readonly identify: (by: string) => Record<string, unknown>,
    private readonly now: () => number = Date.now,
  ) {
    this.windows = new LRUCache<string, Window>({
      max: bounds.tracked,
      dispose: (window, _by, reason) => {
        if (reason !== 'evict' || window.suppressed === 0) return;
        this.pooled += window.suppressed;
      },
    });
  }

  async record(refusal: Refusal): Promise<void> {
    const now = this.now();
    let window = this.windows.get(refusal.by);
    if (!window || now - window.start >= this.bounds.windowMs) {
      window = { start: now, recorded: 0, suppressed: window?.suppressed ?? 0, actor: refusal.actor };
      this.windows.set(refusal.by, window);
    }
    if (now - this.totalWindow.start >= this.bounds.windowMs) this.totalWindow = { start: now, recorded: 0 };
    if (window.recorded >= this.bounds.perWindow || this.totalWindow.recorded >= this.bounds.totalPerWindow) {
      window.suppressed += 1;
      return;
    }
    window.recorded += 1;
    this.totalWindow.recorded += 1;
    const suppressed = window.suppressed;
    window.suppressed = 0;
    try {
      await this.append(refusal.actor, { ...refusal.data, suppressed }, refusal.keys);
    } catch (error) {
      // Not recorded: still counted, so the trail learns of it with the next record or flush.
      window.suppressed += suppressed + 1;
      // A refusal that storage cannot record is still a refusal (401/403, never a 503 or 500).
      const fault = asStorageUnavailable(error);
      if (!fault) throw error;
      this.logger.warn(`a ${this.type} of ${refusal.by} could not be recorded (${fault.reason}); it is counted in the next one`);
    }
  }

  /**
   * Writes the counts nobody has reported yet: one event per `by` (`flushedPerWindow` of them at
   * most, the largest counts first) and one for all the rest, so a flush is bounded too.
   */
  async flush(): Promise<void> {
    const pending = [...this.windows.entries()].filter(([, window]) => window.suppressed > 0);
    pending.sort(([, a], [, b]) => b.suppressed - a.suppressed);
    const events: { actor: Actor; data: Record<string, unknown> }[] = [];
    let others = this.pooled;
    this.pooled = 0;
    pending.forEach(([by, window], index) => {
      if (index < this.bounds.flushedPerWindow) {
        events.push({ actor: window.actor, data: { ...this.identify(by), suppressed: window.suppressed } });
      } else {
        others += window.suppressed;
      }
      window.suppressed = 0;
    });
    if (others > 0) events.push({ actor: OTHERS_ACTOR, data: { ...this.identify(OTHERS), suppressed: others } });
    if (events.length === 0) return;
    try {
      await this.storage.transact(async (tx) => {
        for (const event of events) await this.store.appendToStream(tx, this.stream, ANY_VERSION, [{ type: this.type, data: event.data }], event.actor);
      });
    } catch (error) {
      // Not written: the counts wait for the next flush, pooled (their sources are lost, not their number).
      this.pooled += events.reduce((sum, event) => sum + (event.data.suppressed as number), 0);
      throw error;
    }
  }

  private append(actor: Actor, data: Record<string, unknown>, keys?: readonly string[]): Promise<unknown> {
    return this.storage.transact((tx) => this.store.appendToStream(tx, this.stream, ANY_VERSION, [{ type: this.type, data, keys }], actor));
  }
}
