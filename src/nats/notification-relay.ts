import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/configuration';
import { CoalescedTask } from '../common/coalesced-task';
import type { ReplayedEvent } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { SECRET_EVENT_TYPES } from '../event-store/stored-event-types';
import { Leadership, STORAGE, Storage, placeholders } from '../storage/sql';
import { changeNotification } from '../changes/change-notification';
import { changedSubject } from './contract';
import { NatsLink } from './nats-link';
import { RelayCheckpoints } from './relay-checkpoints';

export const RELAY_NAME = 'nats-notifications';

/** Told about every page the server has acknowledged (metrics). */
export interface RelayObserver {
  published(events: readonly ReplayedEvent[]): void;
}
const PAGE_SIZE = 500;
/**
 * How long a published position may stay unsaved. Saving it is a durable write (an fsync) that
 * would otherwise follow every notification and delay the resolve the notified executors send
 * next; a crash loses at most this much position, and the events are published again.
 */
const CHECKPOINT_DELAY_MS = 1_000;
/** The backstop only: commits (any instance's) and reconnects wake the relay at once. */
const SAFETY_INTERVAL_MS = 30_000;
/**
 * How often an instance that does not publish asks for the role: the one that does may have
 * died (SPEC §8: another takes over within 5 s).
 */
const LEADERSHIP_POLL_MS = 1_000;

/**
 * Publishes secret-state events from the log to `<prefix>.changed.<KEY>`, at least once and in
 * `seq` (= revision) order. The log is the outbox: the relay reads the secret events after its
 * position, publishes a page, waits for the server to have it (flush), and only then moves its
 * position; the position is stored at most once a second (and at shutdown). A crash before it is
 * stored means those events are published again: duplicates, never losses; clients drop them
 * by version.
 *
 * With several instances on one database exactly one relay publishes: the one holding the
 * `notificationRelay` leadership. Every instance's commits wake it (the storage announces them),
 * and when it dies another takes the role, starts from the stored position, and publishes again
 * what the dead one may not have stored: duplicates again, never a gap.
 */
@Injectable()
export class NotificationRelay implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('NotificationRelay');
  private checkpoint = 0;
  private readonly drainer = new CoalescedTask(() => this.drain());
  private stopped = false;
  private safetyTimer: NodeJS.Timeout | undefined;
  private leadershipTimer: NodeJS.Timeout | undefined;
  private leadership!: Leadership;
  private leading = false;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private savedCheckpoint = 0;
  /** The publisher's stored position, as this instance last read it while not publishing. */
  private storedPosition = 0;
  private readonly prefix: string;
  private observer: RelayObserver | undefined;

  constructor(
    private readonly link: NatsLink,
    private readonly store: EventStore,
    @Inject(STORAGE) private readonly storage: Storage,
    private readonly checkpoints: RelayCheckpoints,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.prefix = config.natsPrefix;
  }

  async onModuleInit(): Promise<void> {
    this.checkpoint = await this.checkpoints.get(this.storage.reader, RELAY_NAME);
    this.savedCheckpoint = this.checkpoint;
    this.storedPosition = this.checkpoint;
    this.leadership = this.storage.leadership('notificationRelay');
    this.storage.onAnnounced('secret_changes', () => this.wake());
    this.leadershipTimer = setInterval(() => !this.leading && this.wake(), LEADERSHIP_POLL_MS);
    this.leadershipTimer.unref();
    // A (re)connection is when NATS may have missed something: catch up at once.
    this.link.onStatus((status) => status === 'connected' && this.wake());
    this.safetyTimer = setInterval(() => this.wake(), SAFETY_INTERVAL_MS);
    this.safetyTimer.unref();
  }

  /**
   * Secret-state events committed but not yet published: the shared log's lag, the same figure
   * on every instance. The publisher counts from its own position; an instance that does not
   * publish counts from the position the publisher stored (at most CHECKPOINT_DELAY_MS behind
   * its own), never from where it itself started: a standby's lag would only grow, and an alert
   * on it would page on every standby.
   */
  async lag(): Promise<number> {
    const position = await this.sharedPosition();
    const pending = await this.storage.reader.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM events WHERE seq > ? AND type IN (${placeholders(SECRET_EVENT_TYPES.length)})`,
      [position, ...SECRET_EVENT_TYPES],
    );
    return pending?.n ?? 0;
  }

  /** The `seq` of the last event handed on to NATS (on a standby: as last read from the database). */
  publishedSeq(): number {
    return this.leading ? this.checkpoint : this.storedPosition;
  }

  private async sharedPosition(): Promise<number> {
    if (this.leading) return this.checkpoint;
    this.storedPosition = await this.checkpoints.get(this.storage.reader, RELAY_NAME);
    return this.storedPosition;
  }

  observe(observer: RelayObserver): void {
    this.observer = observer;
  }

  wake(): void {
    if (!this.stopped) void this.drainer.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.safetyTimer);
    clearInterval(this.leadershipTimer);
    await this.drainer.idle();
    clearTimeout(this.checkpointTimer);
    await this.saveCheckpoint();
  }

  /** Whether this instance publishes; on taking the role, it starts from the stored position. */
  private async lead(): Promise<boolean> {
    const holds = await this.leadership.holds();
    if (holds && !this.leading) {
      const stored = await this.checkpoints.get(this.storage.reader, RELAY_NAME);
      this.checkpoint = Math.max(this.checkpoint, stored);
      this.savedCheckpoint = Math.max(this.savedCheckpoint, stored);
      this.logger.log(`this instance publishes the notifications now, from seq ${this.checkpoint}`);
    }
    this.leading = holds;
    return holds;
  }

  /** Whether this instance is the one that publishes (the others wait to take over). */
  isPublishing(): boolean {
    return this.leading;
  }

  private async drain(): Promise<void> {
    try {
      // Checked without a round of awaits when the role is known to be ours: the sooner the
      // page is read, the sooner executors hear of the commit that woke us.
      if (!this.link.connected) return;
      if (!(this.leading && this.leadership.held) && !(await this.lead())) return;
      while (!this.stopped && this.link.connected) {
        const page = await this.nextPage();
        if (page.length === 0) return;
        page.forEach((event) => {
          const notification = changeNotification(event);
          this.link.publish(changedSubject(this.prefix, notification.key), notification);
        });
        await this.link.flush();
        this.observer?.published(page);
        this.checkpoint = page[page.length - 1].seq;
        this.scheduleCheckpoint();
      }
    } catch (error) {
      // NATS went away mid-page: the checkpoint did not move, so the page goes out again on
      // the reconnect that wakes us. Nothing is lost.
      this.logger.warn(`notifications paused at seq ${this.checkpoint}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private scheduleCheckpoint(): void {
    if (this.checkpointTimer) return;
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = undefined;
      void this.saveCheckpoint();
    }, CHECKPOINT_DELAY_MS);
    this.checkpointTimer.unref();
  }

  private async saveCheckpoint(): Promise<void> {
    const position = this.checkpoint;
    if (position === this.savedCheckpoint) return;
    try {
      await this.storage.transact((tx) => this.checkpoints.save(tx, RELAY_NAME, position));
      this.savedCheckpoint = position;
    } catch (error) {
      this.logger.warn(`could not store the relay position ${position}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** The next secret events after the position; the log's other events are not even read. */
  private nextPage(): Promise<ReplayedEvent[]> {
    return this.store.replayPage(this.storage.reader, SECRET_EVENT_TYPES, this.checkpoint, PAGE_SIZE);
  }
}
