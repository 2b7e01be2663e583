import { setImmediate as nextTurnOfEventLoop } from 'node:timers/promises';
import type { EventRow } from '../event-store/event';
import type { SqlSession, SqlValue } from '../storage/sql';
import { GENESIS_HASH } from '../event-store/hash-chain';
import type { AuditEntry, AuditHead } from '../contract/api-types';
import { toAuditEntry } from './audit-entry';
import { AuditFilter, encodeAuditCursor } from './audit-query';

export interface AuditPage {
  items: AuditEntry[];
  next: string | null;
}

const PAGE_SIZE = 250;
/**
 * The seqs one query walks at most. better-sqlite3 is synchronous: a query blocks every other
 * request for as long as it runs, and a filter that matches few rows (a rare type, a type and an
 * actor) would otherwise walk the whole log in one query to fill a page.
 */
const SCAN_WINDOW = 10_000;

/**
 * Read-only queries over the log for reviewers, on any session that sees committed state: the
 * service's reader, or a read-only connection opened by the CLI. Every read is a bounded page in
 * seq order, so neither a listing nor an export ever holds the whole log.
 */
export class AuditLog {
  constructor(
    readonly session: SqlSession,
    private readonly scanWindow = SCAN_WINDOW,
  ) {}

  async head(): Promise<AuditHead> {
    return (await this.session.get<AuditHead>('SELECT seq, hash, at FROM events ORDER BY seq DESC LIMIT 1')) ?? { seq: 0, hash: GENESIS_HASH, at: null };
  }

  /** One page after `afterSeq`; `next` is null on the last page. */
  page(filter: AuditFilter, afterSeq: number, limit: number): Promise<AuditPage> {
    // One row more than asked tells whether another page exists.
    return this.firstRows(this.pages(filter, undefined, afterSeq, limit + 1), limit);
  }

  /** One page newest first, below `beforeSeq` (from the head when undefined): "what just happened". */
  newestPage(filter: AuditFilter, beforeSeq: number | undefined, limit: number): Promise<AuditPage> {
    return this.firstRows(this.pagesNewestFirst(filter, beforeSeq, limit + 1), limit);
  }

  private async firstRows(chunks: AsyncGenerator<EventRow[]>, limit: number): Promise<AuditPage> {
    const rows: EventRow[] = [];
    for await (const chunk of chunks) {
      rows.push(...chunk);
      if (rows.length > limit) break;
    }
    const items = rows.slice(0, limit).map(toAuditEntry);
    return { items, next: rows.length > limit ? encodeAuditCursor(items[items.length - 1].seq) : null };
  }

  /** `pages` walked backwards: the matching rows with seq < `beforeSeq`, newest first, as fair. */
  private async *pagesNewestFirst(filter: AuditFilter, beforeSeq: number | undefined, pageSize: number): AsyncGenerator<EventRow[]> {
    const head = (await this.head()).seq;
    const range = await this.seqRange(filter, 0, beforeSeq === undefined ? head : Math.min(head, beforeSeq - 1));
    if (!range) return;
    for (let cursor = range.untilSeq; cursor > range.afterSeq; ) {
      if (cursor < range.untilSeq) await nextTurnOfEventLoop();
      const windowStart = Math.max(range.afterSeq, cursor - this.scanWindow);
      const page = await this.rows(filter, windowStart, cursor, pageSize, 'DESC');
      if (page.length > 0) yield page;
      cursor = page.length === pageSize ? page[page.length - 1].seq - 1 : windowStart;
    }
  }

  /**
   * The matching rows up to `untilSeq`, a page at a time. An export passes the head it started
   * from, so it is exactly the log as of that moment even while writes continue.
   *
   * Fair to everyone else however fast the consumer takes pages: each query reads at most
   * `pageSize` rows and walks at most `scanWindow` seqs, and the event loop gets a turn before
   * every further query. A consumer that drains at once (a fast socket, a verifier) would
   * otherwise run the whole walk in microtasks while no other request is read.
   */
  async *pages(filter: AuditFilter = {}, untilSeq?: number, afterSeq = 0, pageSize = PAGE_SIZE): AsyncGenerator<EventRow[]> {
    const range = await this.seqRange(filter, afterSeq, untilSeq ?? (await this.head()).seq);
    if (!range) return;
    for (let cursor = range.afterSeq; cursor < range.untilSeq; ) {
      if (cursor > range.afterSeq) await nextTurnOfEventLoop();
      const windowEnd = Math.min(range.untilSeq, cursor + this.scanWindow);
      const page = await this.rows(filter, cursor, windowEnd, pageSize);
      if (page.length > 0) yield page;
      // A full page may end before the window does; a short one has read the window to its end.
      cursor = page.length === pageSize ? page[page.length - 1].seq : windowEnd;
    }
  }

  /** Up to `limit` matching rows with `afterSeq < seq <= untilSeq`, in seq order (or reversed). */
  private async rows(filter: AuditFilter, afterSeq: number, untilSeq: number, limit: number, order: 'ASC' | 'DESC' = 'ASC'): Promise<EventRow[]> {
    const params: SqlValue[] = [afterSeq, untilSeq];
    // A key's events (its changes and every resolve that asked for it) are found through
    // event_keys, walked in seq order, starting there (SQLite would otherwise pick another index).
    const { key } = filter;
    const byKey = key !== undefined;
    const seq = byKey ? 'k.seq' : 'seq';
    const clauses = [`${seq} > ?`, `${seq} <= ?`];
    if (byKey) {
      clauses.push('k.key = ?');
      params.push(key);
    }
    if (filter.type !== undefined) {
      clauses.push('type = ?');
      params.push(filter.type);
    }
    if (filter.actor !== undefined) {
      // Exactly the expression of the index events_by_actor (migration AuditIndexes).
      clauses.push(`${this.session.dialect.actorId} = ?`);
      params.push(filter.actor);
    }
    params.push(limit);
    const from = byKey ? `event_keys k ${this.session.dialect.joinInThisOrder} events e ON e.seq = k.seq` : 'events';
    const sql = `SELECT ${byKey ? 'e.*' : '*'} FROM ${from} WHERE ${clauses.join(' AND ')} ORDER BY ${seq} ${order} LIMIT ?`;
    return this.session.all<EventRow>(sql, params);
  }

  /**
   * Time bounds as a seq range, from two lookups in the index on `at`. Exact because the store
   * never stamps an event earlier than the one before it; and it lets every filter walk its own
   * index in seq order instead of SQLite scanning or sorting a time range of the whole log.
   */
  private async seqRange(filter: AuditFilter, afterSeq: number, untilSeq: number): Promise<{ afterSeq: number; untilSeq: number } | undefined> {
    if (filter.from !== undefined) {
      const first = await this.session.get<{ seq: number }>('SELECT seq FROM events WHERE at >= ? ORDER BY at, seq LIMIT 1', [filter.from]);
      if (!first) return undefined;
      afterSeq = Math.max(afterSeq, first.seq - 1);
    }
    if (filter.to !== undefined) {
      const last = await this.session.get<{ seq: number }>('SELECT seq FROM events WHERE at < ? ORDER BY at DESC, seq DESC LIMIT 1', [filter.to]);
      if (!last) return undefined;
      untilSeq = Math.min(untilSeq, last.seq);
    }
    return afterSeq < untilSeq ? { afterSeq, untilSeq } : undefined;
  }
}
