import type { Database, Statement } from 'better-sqlite3';
import type { EventRow } from '../event-store/event';
import { GENESIS_HASH } from '../event-store/hash-chain';
import { secretStream } from '../secrets/domain/events';
import { AuditEntry, toAuditEntry } from './audit-entry';
import { AuditFilter, encodeCursor } from './audit-query';

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

  constructor(private readonly db: Database) {
    this.headStmt = db.prepare('SELECT seq, hash, at FROM events ORDER BY seq DESC LIMIT 1');
  }

  head(): AuditHead {
    return this.headStmt.get() ?? { seq: 0, hash: GENESIS_HASH, at: null };
  }

  /** One page after `afterSeq`; `next` is null on the last page. */
  page(filter: AuditFilter, afterSeq: number, limit: number): { items: AuditEntry[]; next: string | null } {
    // One row more than asked tells whether another page exists without a second query.
    const rows = this.rows(filter, afterSeq, Number.MAX_SAFE_INTEGER, limit + 1);
    const items = rows.slice(0, limit).map(toAuditEntry);
    return { items, next: rows.length > limit ? encodeCursor(items[items.length - 1].seq) : null };
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
    const clauses = ['seq > @afterSeq', 'seq <= @untilSeq'];
    const params: Record<string, string | number> = { afterSeq, untilSeq, limit };
    if (filter.type !== undefined) {
      clauses.push('type = @type');
      params.type = filter.type;
    }
    if (filter.key !== undefined) {
      clauses.push('stream = @stream');
      params.stream = secretStream(filter.key);
    }
    if (filter.actor !== undefined) {
      // Exactly the expression of the index events_by_actor (migration AuditIndexes).
      clauses.push("json_extract(actor, '$.id') = @actor");
      params.actor = filter.actor;
    }
    if (filter.from !== undefined) {
      clauses.push('at >= @from');
      params.from = filter.from;
    }
    if (filter.to !== undefined) {
      clauses.push('at < @to');
      params.to = filter.to;
    }
    const sql = `SELECT * FROM events WHERE ${clauses.join(' AND ')} ORDER BY seq LIMIT @limit`;
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement.all(params) as EventRow[];
  }
}
