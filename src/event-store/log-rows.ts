import { SqlSession, placeholders } from '../storage/sql';
import type { EventRow } from './event';

export type SealedValueRow = { id: string; stream: string; version: number; ciphertext: Buffer | null; kid: string; wrapped: Buffer };

export type ReplayRow = [seq: number, id: string, stream: string, version: number, type: string, data: string, actor: string, at: string, hasValue: unknown];

const EVENT_COLUMNS = 'seq, id, stream, version, type, data, ciphertext, actor, at, prev_hash, hash';


/**
 * Every statement the log runs, in one place. The SQL is the same on both engines but for what
 * `dialect` spells (the replay's seq-order hint); rows keep `data` and `actor` as the exact
 * text that was hashed.
 */
export const logRows = {
  head: (s: SqlSession) => s.get<{ seq: number; hash: string; at: string }>('SELECT seq, hash, at FROM events ORDER BY seq DESC LIMIT 1'),

  /** The head of the log and the stream's version, in one statement: an append needs both. */
  headAndStreamVersion: async (s: SqlSession, stream: string) => {
    const row = await s.get<{ seq: number; hash: string; at: string; version: number | null }>(
      'SELECT seq, hash, at, (SELECT MAX(version) FROM events WHERE stream = ?) AS version FROM events ORDER BY seq DESC LIMIT 1',
      [stream],
    );
    // An empty log has no head, and no stream in it has a version.
    return { head: row && { seq: row.seq, hash: row.hash, at: row.at }, version: row?.version ?? 0 };
  },

  streamVersion: async (s: SqlSession, stream: string) =>
    (await s.get<{ version: number | null }>('SELECT MAX(version) AS version FROM events WHERE stream = ?', [stream]))?.version ?? 0,

  /** The event row and, for a value, its wrapped data key (which references it). */
  insert: async (s: SqlSession, row: EventRow, dataKey?: { kid: string; wrapped: Buffer }) => {
    const values = [row.seq, row.id, row.stream, row.version, row.type, row.data, row.ciphertext, row.actor, row.at, row.prev_hash, row.hash];
    const insertEvent = `INSERT INTO events (${EVENT_COLUMNS}) VALUES (${placeholders(11)})`;
    if (!dataKey) return void (await s.run(insertEvent, values));
    if (s.dialect.writesInOneStatement) {
      await s.run(`WITH event AS (${insertEvent} RETURNING id) INSERT INTO data_keys (event_id, kid, wrapped) SELECT id, ?, ? FROM event`, [...values, dataKey.kid, dataKey.wrapped]);
      return;
    }
    await s.run(insertEvent, values);
    await s.run('INSERT INTO data_keys (event_id, kid, wrapped) VALUES (?, ?, ?)', [row.id, dataKey.kid, dataKey.wrapped]);
  },

  sealedValues: (s: SqlSession, ids: readonly string[]) =>
    s.all<SealedValueRow>(
      `SELECT e.id, e.stream, e.version, e.ciphertext, k.kid, k.wrapped
         FROM events e JOIN data_keys k ON k.event_id = e.id WHERE e.id IN (${placeholders(ids.length)})`,
      ids,
    ),

  readStream: (s: SqlSession, stream: string) => s.all<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream = ? ORDER BY version`, [stream]),

  count: async (s: SqlSession, types: readonly string[]) =>
    (await s.get<{ n: number }>(`SELECT COUNT(*) AS n FROM events WHERE type IN (${placeholders(types.length)})`, types))?.n ?? 0,

  /** The newest event of these types (its seq and data), if the log holds one. */
  lastOfTypes: (s: SqlSession, types: readonly string[]) =>
    s.get<{ seq: number; data: string }>(`SELECT seq, data FROM events WHERE type IN (${placeholders(types.length)}) ORDER BY seq DESC LIMIT 1`, types),

  /** A page of events of these types after `afterSeq`, as arrays (no object per row on a long replay). */
  replayPage: (s: SqlSession, types: readonly string[], afterSeq: number, limit: number) =>
    s.values<ReplayRow>(
      `SELECT seq, id, stream, version, type, data, actor, at, ciphertext IS NOT NULL
         FROM events WHERE ${s.dialect.typeColumnInSeqOrder} IN (${placeholders(types.length)}) AND seq > ? ORDER BY seq LIMIT ?`,
      [...types, afterSeq, limit],
    ),
};
