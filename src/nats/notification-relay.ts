import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Database, Statement } from 'better-sqlite3';
import { CoalescedTask } from '../common/coalesced-task';
import type { EventRow } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { SECRET_EVENT_TYPES } from '../secrets/domain/events';
import { ListensToSecretChanges, SecretChangeListener } from '../secrets/secret-change-listener';
import { SQLITE } from '../storage/database.module';
import { SqliteWriter } from '../storage/sqlite-writer';
import { ChangeNotification, changedSubject } from './contract';
import { NatsLink } from './nats-link';
import { RelayCheckpoints } from './relay-checkpoints';

export const RELAY_NAME = 'nats-notifications';
const PAGE_SIZE = 500;
/** The backstop only: commits and reconnects wake the relay at once. */
const SAFETY_INTERVAL_MS = 30_000;

/**
 * Publishes secret-state events from the log to `secrets.changed.<KEY>`, at least once and in
 * `seq` (= revision) order. The log is the outbox: the relay reads everything after its stored
 * checkpoint, publishes a page, waits for the server to have it (flush), and only then moves the
 * checkpoint — one write per page, not per event. A crash between flush and checkpoint means
 * the page is published again: duplicates, never losses; clients drop them by version.
 */
@Injectable()
@ListensToSecretChanges()
export class NotificationRelay implements SecretChangeListener, OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('NotificationRelay');
  private checkpoint = 0;
  private readonly drainer = new CoalescedTask(() => this.drain());
  private stopped = false;
  private safetyTimer: NodeJS.Timeout | undefined;
  private readonly pendingCount: Statement<unknown[], { n: number }>;

  constructor(
    private readonly link: NatsLink,
    private readonly store: EventStore,
    private readonly writer: SqliteWriter,
    private readonly checkpoints: RelayCheckpoints,
    @Inject(SQLITE) db: Database,
  ) {
    this.pendingCount = db.prepare(
      `SELECT COUNT(*) AS n FROM events WHERE seq > ? AND type IN (${SECRET_EVENT_TYPES.map(() => '?').join(', ')})`,
    );
  }

  onModuleInit(): void {
    this.checkpoint = this.checkpoints.get(RELAY_NAME);
    // A (re)connection is when NATS may have missed something: catch up at once.
    this.link.onStatus((status) => status === 'connected' && this.wake());
    this.safetyTimer = setInterval(() => this.wake(), SAFETY_INTERVAL_MS);
    this.safetyTimer.unref();
  }

  /** After each commit. Only a wake-up call: what is published is read from the log. */
  secretsChanged(): void {
    this.wake();
  }

  /** Secret-state events committed but not yet published (head revision − published revision). */
  lag(): number {
    return this.pendingCount.get(this.checkpoint, ...SECRET_EVENT_TYPES)?.n ?? 0;
  }

  /** The `seq` of the last event handed on (the stored checkpoint). */
  publishedSeq(): number {
    return this.checkpoint;
  }

  wake(): void {
    if (!this.stopped) void this.drainer.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.safetyTimer);
    await this.drainer.idle();
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && this.link.connected) {
        const page = this.nextPage();
        if (page.length === 0) return;
        page.filter((row) => SECRET_EVENT_TYPES.includes(row.type)).forEach((row) => {
          const notification = changeNotification(row);
          this.link.publish(changedSubject(notification.key), notification);
        });
        await this.link.flush();
        const last = page[page.length - 1].seq;
        await this.writer.write(() => this.checkpoints.save(RELAY_NAME, last));
        this.checkpoint = last;
      }
    } catch (error) {
      // NATS went away mid-page: the checkpoint did not move, so the page goes out again on
      // the reconnect that wakes us. Nothing is lost.
      this.logger.warn(`notifications paused at seq ${this.checkpoint}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private nextPage(): EventRow[] {
    const page: EventRow[] = [];
    for (const row of this.store.readAll(this.checkpoint, PAGE_SIZE)) {
      page.push(row);
      if (page.length === PAGE_SIZE) break;
    }
    return page;
  }
}

/** Built from the row's value-free columns only; `ciphertext` is never read here. */
export function changeNotification(row: EventRow): ChangeNotification {
  const data = JSON.parse(row.data) as { key: string; revision: number };
  return {
    type: row.type as ChangeNotification['type'],
    key: data.key,
    version: row.version,
    revision: data.revision,
    seq: row.seq,
    eventId: row.id,
    at: row.at,
  };
}
