import { StoredEventType } from '../event-store/stored-event-types';
import type { SqlSession } from '../storage/sql';
import type { SignedCheckpoint } from './checkpoint';
import { CHECKPOINT_STREAM } from './checkpoint';

/** A checkpoint as the log holds it: `eventSeq` is the AuditCheckpoint event's own position. */
export interface LoggedCheckpoint {
  eventSeq: number;
  version: number;
  checkpoint: SignedCheckpoint;
}

const CHECKPOINT_TYPE = StoredEventType.AuditCheckpoint;

/** Every statement the checkpoints run on the log. */
export const checkpointLog = {
  async latest(s: SqlSession): Promise<LoggedCheckpoint | undefined> {
    const row = await s.get<{ seq: number; version: number; data: string }>('SELECT seq, version, data FROM events WHERE stream = ? ORDER BY version DESC LIMIT 1', [CHECKPOINT_STREAM]);
    return row && { eventSeq: row.seq, version: row.version, checkpoint: JSON.parse(row.data) };
  },

  /** The checkpoints whose events come after `afterEventSeq`, oldest first. */
  async after(s: SqlSession, afterEventSeq: number, limit: number): Promise<LoggedCheckpoint[]> {
    const rows = await s.all<{ seq: number; version: number; data: string }>(
      'SELECT seq, version, data FROM events WHERE type = ? AND seq > ? ORDER BY seq LIMIT ?',
      [CHECKPOINT_TYPE, afterEventSeq, limit],
    );
    return rows.map((row) => ({ eventSeq: row.seq, version: row.version, checkpoint: JSON.parse(row.data) }));
  },

  async countAfter(s: SqlSession, afterEventSeq: number): Promise<number> {
    return (await s.get<{ n: number }>('SELECT COUNT(*) AS n FROM events WHERE type = ? AND seq > ?', [CHECKPOINT_TYPE, afterEventSeq]))?.n ?? 0;
  },

  async event(s: SqlSession, seq: number): Promise<{ hash: string; at: string } | undefined> {
    return s.get<{ hash: string; at: string }>('SELECT hash, at FROM events WHERE seq = ?', [seq]);
  },
};
