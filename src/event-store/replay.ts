import type { SqlSession } from '../storage/sql';
import type { ReplayedEvent } from './event';
import { logRows } from './log-rows';

/**
 * Events of the given types in `seq` order, as facts for a replay (see ReplayedEvent), a page at
 * a time so that a million-row replay never holds the log. Pages, not events: each step of an
 * async iterator is a promise, and one per row cost a replay a tenth of its speed.
 */
export async function* replayPages(session: SqlSession, types: readonly string[], afterSeq = 0, pageSize = 5_000): AsyncGenerator<ReplayedEvent[]> {
  let cursor = afterSeq;
  for (;;) {
    const rows = await logRows.replayPage(session, types, cursor, pageSize);
    if (rows.length === 0) return;
    yield rows.map(([seq, id, stream, version, type, data, actor, at, hasValue]) => ({
      seq,
      id,
      stream,
      version,
      type,
      data: JSON.parse(data),
      actor: JSON.parse(actor),
      at,
      hasValue: Boolean(hasValue),
    }));
    cursor = rows[rows.length - 1][0];
  }
}
