import type { RelayCheckpoints } from '../nats/relay-checkpoints';
import { retryDelay } from '../common/retry-delay';
import type { Storage } from '../storage/sql';
import { checkpointLog } from './checkpoint-log';
import type { SinkTarget } from './sink-targets';

/** The sink's position in `relay_checkpoints`: the event seq of the last checkpoint it holds. */
export const SINK_POSITION = 'checkpoint-sink';

const PAGE = 100;

/** What readiness and metrics show of the sink. */
export interface SinkState {
  sink: SinkTarget['kind'] | 'none';
  /** The event seq of the last checkpoint the sink holds. */
  shippedSeq: number;
  /** Checkpoints in the log the sink does not hold yet. */
  pending: number;
  error?: string;
  failingSince?: string;
}

/**
 * A relay over the log, like the notifications': the checkpoints after the sink's stored
 * position are delivered one at a time, in order, and the position moves only after a delivery
 * (a file: written and fsynced; https: a 2xx). The checkpoint event commits first, so a crash
 * between the two leaves it in the log, and the next start delivers it from the position. A
 * failing sink is retried with backoff; nothing is skipped.
 */
export class CheckpointShipper {
  private position = 0;
  private failure: { reason: string; since: number } | undefined;
  private nextAttemptAt = 0;
  private failures = 0;
  private onFailure: (() => void) | undefined;

  constructor(
    private readonly target: SinkTarget | undefined,
    private readonly storage: Storage,
    private readonly positions: RelayCheckpoints,
  ) {}

  /** Told about every failed delivery (metrics). */
  observe(onFailure: () => void): void {
    this.onFailure = onFailure;
  }

  get failedDeliveries(): number {
    return this.failures;
  }

  /** Delivers what the sink lacks; returns early while a failed attempt's backoff runs. Leader only. */
  async ship(now = Date.now()): Promise<void> {
    if (!this.target || now < this.nextAttemptAt) return;
    this.position = Math.max(this.position, await this.positions.get(this.storage.reader, SINK_POSITION));
    for (;;) {
      const page = await checkpointLog.after(this.storage.reader, this.position, PAGE);
      if (page.length === 0) return;
      for (const { eventSeq, checkpoint } of page) {
        try {
          await this.target.deliver(checkpoint);
        } catch (error) {
          this.failures += 1;
          this.onFailure?.();
          const since = this.failure?.since ?? now;
          this.failure = { reason: error instanceof Error ? error.message : String(error), since };
          this.nextAttemptAt = Date.now() + retryDelay(Date.now() - since);
          return;
        }
        this.failure = undefined;
        this.nextAttemptAt = 0;
        await this.storage.transact((tx) => this.positions.save(tx, SINK_POSITION, eventSeq));
        this.position = eventSeq;
      }
    }
  }

  /** The shared position as stored (any instance), and what the sink still lacks. */
  async state(): Promise<SinkState> {
    if (!this.target) return { sink: 'none', shippedSeq: 0, pending: 0 };
    const shippedSeq = Math.max(this.position, await this.positions.get(this.storage.reader, SINK_POSITION));
    const pending = await checkpointLog.countAfter(this.storage.reader, shippedSeq);
    const failing = this.failure ? { error: this.failure.reason, failingSince: new Date(this.failure.since).toISOString() } : {};
    return { sink: this.target.kind, shippedSeq, pending, ...failing };
  }
}
