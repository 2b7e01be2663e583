import type { EventRow } from '../event-store/event';
import type { SqlSession, SqlValue } from '../storage/sql';
import { GENESIS_HASH } from '../event-store/hash-chain';
import { AuditEntry, toAuditEntry } from './audit-entry';
import { AuditFilter, encodeAuditCursor } from './audit-query';

export interface AuditHead {
  seq: number;
  hash: string;
  at: string | null;
}

const PAGE_SIZE = 1_000;

/**
 * Read-only queries over the log for reviewers, on any session that sees committed state: the
 * service's reader, or a read-only connection opened by the CLI. Every read is a bounded page in
 * seq order, so neither a listing nor an export ever holds the whole log.
 */
export class AuditLog {
  constructor(readonly session: SqlSession) {}

  async head(): Promise<AuditHead> {
    return (await this.session.get<AuditHead>('SELECT seq, hash, at FROM events ORDER BY seq DESC LIMIT 1')) ?? { seq: 0, hash: GENESIS_HASH, at: null };
  }

  /** One page after `afterSeq`; `next` is null on the last page. */
  async page(filter: AuditFilter, afterSeq: number, limit: number): Promise<{ items: AuditEntry[]; next: string | null }> {
    // One row more than asked tells whether another page exists without a second query.
    const rows = await this.rows(filter, afterSeq, Number.MAX_SAFE_INTEGER, limit + 1);
    const items = rows.slice(0, limit).map(toAuditEntry);
    return { items, next: rows.length > limit ? encodeAuditCursor(items[items.length - 1].seq) : null };
  }

  /**
   * The matching rows up to `untilSeq`, a page at a time. An export passes the head it started
   * from, so it is exactly the log as of that moment even while writes continue.
   */
  async *pages(filter: AuditFilter = {}, untilSeq?: number, afterSeq = 0, pageSize = PAGE_SIZE): AsyncGenerator<EventRow[]> {
    const until = untilSeq ?? (await this.head()).seq;
    let cursor = afterSeq;
    for (;;) {
      const page = await this.rows(filter, cursor, until, pageSize);
      if (page.length === 0) return;
      yield page;
      cursor = page[page.length - 1].seq;
    }
  }

  private async rows(filter: AuditFilter, afterSeq: number, untilSeq: number, limit: number): Promise<EventRow[]> {
    const range = await this.seqRange(filter, afterSeq, untilSeq);
    if (!range) return [];
    const params: SqlValue[] = [range.afterSeq, range.untilSeq];
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
    const sql = `SELECT ${byKey ? 'e.*' : '*'} FROM ${from} WHERE ${clauses.join(' AND ')} ORDER BY ${seq} LIMIT ?`;
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
