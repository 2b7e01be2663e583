import { Logger } from '@nestjs/common';
import type { Pool } from 'pg';
import { CommitOutcomeUnknownError, asStorageUnavailable } from '../storage-fault';

/** How often the database is asked again while it cannot say (unreachable, or the old session still open). */
const ASK_AGAIN_MS = 200;

export type CommitOutcome = 'committed' | 'aborted' | 'unknown';

/**
 * Whether a COMMIT that failed may have committed. A server that answered it with an ERROR rolled
 * the transaction back; any other failure (the socket closed, the session ended with FATAL while
 * COMMIT was on its way) leaves it open: the server may have committed before the answer was lost.
 */
export function commitMayHaveLanded(error: unknown): boolean {
  return (error as { severity?: unknown } | null)?.severity !== 'ERROR';
}

/**
 * What became of transaction `xid` whose COMMIT got no answer, asked on another connection until
 * `withinMs` has passed. PostgreSQL keeps every transaction's status (`txid_status`): committed,
 * aborted, or in progress while the old session has not yet noticed that its client went away —
 * which ending that session settles (a COMMIT it is already running still completes; one that
 * never arrived is rolled back).
 */
export async function commitOutcome(pool: Pool, xid: number, pid: number, withinMs: number): Promise<CommitOutcome> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      const { rows } = await pool.query<{ status: string | null }>('SELECT txid_status($1) AS status', [xid]);
      const status = rows[0]?.status;
      if (status === 'committed' || status === 'aborted') return status;
      // Only the session still running this very transaction (a pid alone may have been reused);
      // without the right to end it, its own limits end it soon enough.
      await pool
        .query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1 AND backend_xid::text = $2', [pid, String(xid % 2 ** 32)])
        .catch(() => undefined);
    } catch (error) {
      // Unreachable for now: ask again until the deadline. Anything else is a bug to report.
      if (!asStorageUnavailable(error)) throw error;
    }
    if (Date.now() >= deadline) return 'unknown';
    await new Promise((resolve) => setTimeout(resolve, ASK_AGAIN_MS));
  }
}

const logger = new Logger('PostgresStorage');

/**
 * Settles a COMMIT that failed: resolves if the transaction committed after all (its writes are
 * durable, their callers are answered as such), throws the failure if it was rolled back, and
 * CommitOutcomeUnknownError — never "nothing was stored" — if the database could not say in time.
 */
export async function settleFailedCommit(pool: Pool, failure: unknown, xid: number, pid: number, withinMs: number): Promise<void> {
  if (!commitMayHaveLanded(failure)) throw failure;
  const outcome = await commitOutcome(pool, xid, pid, withinMs);
  const reason = asStorageUnavailable(failure)?.reason ?? 'the connection to PostgreSQL was lost';
  if (outcome === 'committed') {
    logger.warn(`the answer to COMMIT of transaction ${xid} was lost (${reason}); it committed, and its writes are acknowledged`);
    return;
  }
  if (outcome === 'aborted') throw failure;
  logger.error(`the answer to COMMIT of transaction ${xid} was lost (${reason}) and PostgreSQL could not be asked in time whether it committed: ask txid_status(${xid}); its callers were told the outcome is unknown`);
  throw new CommitOutcomeUnknownError(reason);
}
