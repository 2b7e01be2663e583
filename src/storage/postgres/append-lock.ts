import type { SqlSession } from '../sql';
import { ADVISORY_LOCKS } from './advisory-locks';

/** A session that has held the log's append lock longer than the lock-wait limit: every write waits on it. */
export interface AppendLockHolder {
  pid: number;
  /** Its application_name: another instance ("secrets-ledger"), or a tool such as psql. */
  application: string;
  /** pg_stat_activity's state: "idle in transaction" is a session that stopped half-way. */
  state: string;
  /** How long its transaction has been open: the lock is taken when it begins, or later. */
  heldMs: number;
}

// pg_locks spells a one-bigint advisory key as its two 32-bit halves, with objsubid 1.
const HIGH = Math.floor(ADVISORY_LOCKS.logAppend / 2 ** 32);
const LOW = ADVISORY_LOCKS.logAppend % 2 ** 32;

/**
 * The holder of the log's append lock if it has held it past `limitMs`, else undefined. Another
 * role's session shows no transaction start (pg_stat_activity hides it without pg_read_all_stats)
 * and is not judged here; the writes it holds up fail on the lock-wait limit, which readiness
 * reports as the storage fault it is.
 */
export async function appendLockHeldPast(session: SqlSession, limitMs: number): Promise<AppendLockHolder | undefined> {
  const row = await session.get<{ pid: number; application: string | null; state: string | null; held_ms: number | null }>(
    `SELECT l.pid, a.application_name AS application, a.state,
            (EXTRACT(EPOCH FROM clock_timestamp() - a.xact_start) * 1000)::float8 AS held_ms
       FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.classid = ?::oid AND l.objid = ?::oid
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [HIGH, LOW],
  );
  if (!row || row.held_ms === null || row.held_ms <= limitMs) return undefined;
  return { pid: row.pid, application: row.application ?? '', state: row.state ?? 'unknown', heldMs: Math.round(row.held_ms) };
}
