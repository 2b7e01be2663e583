import { Injectable, Logger, OnModuleDestroy, OnModuleInit, Inject } from '@nestjs/common';
import { CoalescedTask } from '../common/coalesced-task';
import type { ChangeNotification } from '../contract/change-notification';
import { STORAGE, Storage } from '../storage/sql';
import { ChangeLog, ChangePosition, LOG_START } from './change-log';

export type ChangeListener = (change: ChangeNotification) => void;

const PAGE_SIZE = 500;
/**
 * The backstop only: every instance's commits wake the feed at once (the storage announces them,
 * and a PostgreSQL listener that reconnects wakes it too). One indexed read, and only while a
 * stream listens.
 */
const SAFETY_INTERVAL_MS = 5_000;

/**
 * This instance's one reader of new changes, for every stream it serves: a commit (any
 * instance's) wakes it, it reads the changes after its position from the log once, and hands
 * each to every listener, in revision order. Streams catch up from the log by themselves and
 * join here once they have reached `position` (see ChangeStream): the log, never NATS, is what
 * they follow, so they work with NATS down.
 */
@Injectable()
export class ChangeFeed implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ChangeFeed');
  private readonly listeners = new Set<ChangeListener>();
  private readonly drainer = new CoalescedTask(() => this.drain());
  #position: ChangePosition = LOG_START;
  private started: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly log: ChangeLog,
    @Inject(STORAGE) private readonly storage: Storage,
  ) {}

  onModuleInit(): void {
    this.storage.onAnnounced('secret_changes', () => this.wake());
    this.timer = setInterval(() => this.listeners.size > 0 && this.wake(), SAFETY_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** After the last change handed to the listeners. */
  get position(): ChangePosition {
    return this.#position;
  }

  /** Resolves once the feed knows where the log's head is (the first stream asks). */
  ready(): Promise<void> {
    this.started ??= this.log.head().then(
      (head) => {
        if (head.seq > this.#position.seq) this.#position = head;
      },
      (error: unknown) => {
        this.started = undefined;
        throw error;
      },
    );
    return this.started;
  }

  /** Called, synchronously and in revision order, with every change after `position`. */
  listen(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  wake(): void {
    if (!this.stopped && this.started) void this.drainer.run();
  }

  private async drain(): Promise<void> {
    try {
      await this.started;
      for (;;) {
        const page = await this.log.page(this.#position, PAGE_SIZE);
        for (const change of page) {
          // Moved before the listeners hear it: a stream that joins afterwards starts after it.
          this.#position = { seq: change.seq, revision: change.revision };
          this.listeners.forEach((listener) => listener(change));
        }
        if (page.length < PAGE_SIZE) return;
      }
    } catch (error) {
      // The storage is unavailable: the next commit or the backstop tries again from the same place.
      this.logger.warn(`the change feed paused at revision ${this.#position.revision}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
