import { Inject, Injectable } from '@nestjs/common';
import type { ChangeNotification } from '../contract/change-notification';
import { EventStore } from '../event-store/event-store';
import { SECRET_EVENT_TYPES } from '../event-store/stored-event-types';
import { STORAGE, Storage } from '../storage/sql';
import { changeNotification } from './change-notification';

/** Where a reader of the changes is: after the change with this revision, at this seq of the log. */
export interface ChangePosition {
  seq: number;
  revision: number;
}

export const LOG_START: ChangePosition = { seq: 0, revision: 0 };

/**
 * The secret-state changes as the log holds them, read by revision (what clients count in) and
 * paged by seq (what the log is ordered by). Revisions grow with seq, one per secret-state
 * event, so a revision's seq is found by bisecting the log, a few indexed reads, whatever its size.
 */
@Injectable()
export class ChangeLog {
  constructor(
    private readonly store: EventStore,
    @Inject(STORAGE) private readonly storage: Storage,
  ) {}

  /** After the newest change committed. */
  async head(): Promise<ChangePosition> {
    const last = await this.store.last(this.storage.reader, SECRET_EVENT_TYPES);
    return last ? { seq: last.seq, revision: revisionOf(last.data) } : LOG_START;
  }

  /** At most `limit` changes after `after`, in revision order. */
  async page(after: ChangePosition, limit: number): Promise<ChangeNotification[]> {
    const events = await this.store.replayPage(this.storage.reader, SECRET_EVENT_TYPES, after.seq, limit);
    return events.map(changeNotification);
  }

  /** The position after the change with `revision`; one beyond the head is the head. */
  async after(revision: number): Promise<ChangePosition> {
    const head = await this.head();
    if (revision >= head.revision) return head;
    if (revision <= 0) return LOG_START;
    // The seq of the change with this revision lies in [low, high]: the change at `low` (or the
    // log's start) has a revision at most this one, and every change after `high` a greater one.
    let low = 0;
    let high = head.seq;
    while (low < high) {
      const probe = low + Math.floor((high - low) / 2) + 1;
      const [first] = await this.store.replayPage(this.storage.reader, SECRET_EVENT_TYPES, probe - 1, 1);
      if (first === undefined || revisionOf(first.data) > revision) high = probe - 1;
      else low = first.seq;
    }
    return { seq: low, revision };
  }
}

function revisionOf(data: object): number {
  return (data as { revision?: number }).revision ?? 0;
}
