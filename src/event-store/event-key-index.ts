import type { WriteTransaction } from '../storage/sql';

/**
 * `event_keys`: every event under each secret key it concerns, for the audit trail's key filter
 * (a secret's changes and every resolve that asked for it). The rows go in at the end of the
 * batch, all the batch's rows together (WriteTransaction.deferInsert): a resolve's dozen rows land
 * on a dozen index pages, and inside the job's savepoint SQLite would first journal each page.
 */
export function indexEventKeys(tx: WriteTransaction, keys: readonly string[] | undefined, seq: number): void {
  if (!keys || keys.length === 0) return;
  tx.deferInsert('event_keys', ['key', 'seq'], [...new Set(keys)].map((key) => [key, seq]));
}
