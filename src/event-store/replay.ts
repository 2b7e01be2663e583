import type { SqlSession } from '../storage/sql';
import type { Actor, ReplayedEvent } from './event';
import { logRows } from './log-rows';

/**
 * Events of the given types in `seq` order, as facts for a replay (see ReplayedEvent), a page at
 * a time so that a million-row replay never holds the log. Pages, not events: each step of an
 * async iterator is a promise, and one per row cost a replay a tenth of its speed.
 */
export async function* replayPages(session: SqlSession, types: readonly string[], afterSeq = 0, pageSize = 5_000): AsyncGenerator<ReplayedEvent[]> {
  let cursor = afterSeq;
  for (;;) {
    const page = await readReplayPage(session, types, cursor, pageSize);
    if (page.length === 0) return;
    yield page;
    cursor = page[page.length - 1].seq;
  }
}

/** At most `limit` events of these types after `afterSeq`, in seq order. */
export async function readReplayPage(session: SqlSession, types: readonly string[], afterSeq: number, limit: number): Promise<ReplayedEvent[]> {
  const rows = await logRows.replayPage(session, types, afterSeq, limit);
  // A log has few actors and many events: each actor's text is parsed once a page.
  const actors = new Map<string, Actor>();
  const actorOf = (text: string) => {
    let actor = actors.get(text);
    if (!actor) actors.set(text, (actor = Object.freeze(JSON.parse(text) as Actor)));
    return actor;
  };
  return rows.map(([seq, id, stream, version, type, data, actor, at, hasValue]) => ({
    seq,
    id,
    stream,
    version,
    type,
    data: JSON.parse(data),
    actor: actorOf(actor),
    at,
    hasValue: Boolean(hasValue),
  }));
}
