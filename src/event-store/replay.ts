import type { SqlSession } from '../storage/sql';
import type { ReplayedEvent } from './event';
import { logRows } from './log-rows';

/**
 * Events of the given types in `seq` order, as facts for a replay (see ReplayedEvent), read a
 * page at a time so that a million-row replay never holds the log.
 */
export async function* replayEvents(session: SqlSession, types: readonly string[], afterSeq = 0, pageSize = 5_000): AsyncGenerator<ReplayedEvent> {
  let cursor = afterSeq;
  for (;;) {
    const page = await logRows.replayPage(session, types, cursor, pageSize);
    if (page.length === 0) return;
    for (const [seq, id, stream, version, type, data, actor, at, hasValue] of page) {
      yield { seq, id, stream, version, type, data: JSON.parse(data), actor: JSON.parse(actor), at, hasValue: Boolean(hasValue) };
    }
    cursor = page[page.length - 1][0];
  }
}
