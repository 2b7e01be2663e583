import type { Database, Statement } from 'better-sqlite3';
import type { EventRow } from '../event-store/event';
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
 * Read-only queries over the log for reviewers, on any better-sqlite3 handle: the service's
 * connection, or a read-only copy opened by the CLI. Every read is a bounded page in seq order,
 * so neither a listing nor an export ever holds the whole log.
 */
export class AuditLog {
  private readonly statements = new Map<string, Statement>();
  private readonly headStmt: Statement<[], AuditHead>;
  private readonly firstAtOrAfter: Statement<[string], { seq: number }>;
  private readonly lastBefore: Statement<[string], { seq: number }>;

  constructor(private readonly db: Database) {
    this.headStmt = db.prepare('SELECT seq, hash, at FROM events ORDER BY seq DESC LIMIT 1');
    this.firstAtOrAfter = db.prepare('SELECT seq FROM events WHERE at >= ? ORDER BY at, seq LIMIT 1');
    this.lastBefore = db.prepare('SELECT seq FROM events WHERE at < ? ORDER BY at DESC, seq DESC LIMIT 1');
  }

  head(): AuditHead {
    return this.headStmt.get() ?? { seq: 0, hash: GENESIS_HASH, at: null };
  }

  /** One page after `afterSeq`; `next` is null on the last page. */
  page(filter: AuditFilter, afterSeq: number, limit: number): { items: AuditEntry[]; next: string | null } {
    // One row more than asked tells whether another page exists without a second query.
    const rows = this.rows(filter, afterSeq, Number.MAX_SAFE_INTEGER, limit + 1);
    const items = rows.slice(0, limit).map(toAuditEntry);
    return { items, next: rows.length > limit ? encodeAuditCursor(items[items.length - 1].seq) : null };
  }

  /**
   * The matching rows up to `untilSeq`, a page at a time. An export passes the head it started
   * from, so it is exactly the log as of that moment even while writes continue.
   */
  *pages(filter: AuditFilter = {}, untilSeq = this.head().seq, afterSeq = 0, pageSize = PAGE_SIZE): Generator<EventRow[]> {
    let cursor = afterSeq;
    for (;;) {
      const page = this.rows(filter, cursor, untilSeq, pageSize);
      if (page.length === 0) return;
      yield page;
      cursor = page[page.length - 1].seq;
    }
  }

  private rows(filter: AuditFilter, afterSeq: number, untilSeq: number, limit: number): EventRow[] {
    const range = this.seqRange(filter, afterSeq, untilSeq);
    if (!range) return [];
    const params: Record<string, string | number> = { ...range, limit };
    // A key's events (its changes and every resolve that asked for it) are found through
    // event_keys, walked in seq order; CROSS JOIN keeps SQLite from starting at another index.
    const { key } = filter;
    const byKey = key !== undefined;
    const seq = byKey ? 'k.seq' : 'seq';
    const clauses = [`${seq} > @afterSeq`, `${seq} <= @untilSeq`];
    if (byKey) {
      clauses.push('k.key = @key');
      params.key = key;
    }
    if (filter.type !== undefined) {
      clauses.push('type = @type');
      params.type = filter.type;
    }
    if (filter.actor !== undefined) {
      // Exactly the expression of the index events_by_actor (migration AuditIndexes).
      clauses.push("json_extract(actor, '$.id') = @actor");
      params.actor = filter.actor;
    }
    const from = byKey ? 'event_keys k CROSS JOIN events e ON e.seq = k.seq' : 'events';
    const sql = `SELECT ${byKey ? 'e.*' : '*'} FROM ${from} WHERE ${clauses.join(' AND ')} ORDER BY ${seq} LIMIT @limit`;
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement.all(params) as EventRow[];
  }

  /**
   * Time bounds as a seq range, from two lookups in the index on `at`. Exact because the store
   * never stamps an event earlier than the one before it; and it lets every filter walk its own
   * index in seq order instead of SQLite scanning or sorting a time range of the whole log.
   */
  private seqRange(filter: AuditFilter, afterSeq: number, untilSeq: number): { afterSeq: number; untilSeq: number } | undefined {
    if (filter.from !== undefined) {
      const first = this.firstAtOrAfter.get(filter.from);
      if (!first) return undefined;
      afterSeq = Math.max(afterSeq, first.seq - 1);
    }
    if (filter.to !== undefined) {
      const last = this.lastBefore.get(filter.to);
      if (!last) return undefined;
      untilSeq = Math.min(untilSeq, last.seq);
    }
    return afterSeq < untilSeq ? { afterSeq, untilSeq } : undefined;
  }
}
