import type { SqlSession, WriteTransaction } from '../storage/sql';

/**
 * Which master keys each live service instance holds, and which one it wraps new values with
 * (the `master_key_holders` table). Every instance renews its own row on a heartbeat and deletes
 * it when it stops; a row past `expires_at` is an instance that died without saying so.
 *
 * What reads it: a rotation (never rewrap under a key some live instance lacks; never call a key
 * retirable while a live instance wraps with it), and each instance's own wrapping (never wrap
 * under a key another live instance lacks). Times come from each instance's clock: instances
 * must agree on the time to within a fraction of HOLDER_TTL_MS (NTP does).
 */

/** How often an instance renews its row and re-reads everyone else's. */
export const HEARTBEAT_INTERVAL_MS = 2_000;
/** How long a row counts as live after its last renewal: several missed heartbeats. */
export const HOLDER_TTL_MS = 10_000;

export interface KeyHolder {
  /** A random id per process start. */
  instance: string;
  host: string;
  pid: number;
  /** The key this instance wraps new values with. */
  activeKid: string;
  /** Every key id in its keyring, the active one included. */
  heldKids: string[];
  startedAt: string;
}

interface HolderRow {
  instance: string;
  host: string;
  pid: number;
  active_kid: string;
  held_kids: string;
  started_at: string;
}

const toHolder = (row: HolderRow): KeyHolder => ({
  instance: row.instance,
  host: row.host,
  pid: Number(row.pid),
  activeKid: row.active_kid,
  // Key ids are [A-Za-z0-9._-] (SECRETS_MASTER_KEYS' rule), so a comma cannot be part of one.
  heldKids: row.held_kids.split(','),
  startedAt: row.started_at,
});

/** How an operator finds the instance: its host and pid, and the id its row carries. */
export function describeHolder(holder: KeyHolder): string {
  return `instance ${holder.instance} (host ${holder.host}, pid ${holder.pid})`;
}

export const keyHolders = {
  /** Writes or renews `holder`'s row, live until `now + HOLDER_TTL_MS`. */
  announce: (tx: WriteTransaction, holder: KeyHolder, now = Date.now()) =>
    tx.run(
      `INSERT INTO master_key_holders (instance, host, pid, active_kid, held_kids, started_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (instance) DO UPDATE SET active_kid = excluded.active_kid, held_kids = excluded.held_kids, expires_at = excluded.expires_at`,
      [holder.instance, holder.host, holder.pid, holder.activeKid, holder.heldKids.join(','), holder.startedAt, new Date(now + HOLDER_TTL_MS).toISOString()],
    ),

  withdraw: (tx: WriteTransaction, instance: string) => tx.run('DELETE FROM master_key_holders WHERE instance = ?', [instance]),

  /**
   * Forgets every row but `keep`'s: for a process that knows no other instance can be alive
   * (the holder of a SQLite data dir's lock, SPEC §8), so that a crashed predecessor's row does
   * not stand in the way until it expires.
   */
  forgetOthers: (tx: WriteTransaction, keep = '') => tx.run('DELETE FROM master_key_holders WHERE instance <> ?', [keep]),

  /** Every live instance but `except`, oldest first. */
  async live(session: SqlSession, except = '', now = Date.now()): Promise<KeyHolder[]> {
    const rows = await session.all<HolderRow>(
      'SELECT instance, host, pid, active_kid, held_kids, started_at FROM master_key_holders WHERE expires_at > ? AND instance <> ? ORDER BY started_at, instance',
      [new Date(now).toISOString(), except],
    );
    return rows.map(toHolder);
  },
};

/** The live instances (of `holders`) whose keyring lacks `kid`. */
export const lacking = (holders: readonly KeyHolder[], kid: string) => holders.filter((holder) => !holder.heldKids.includes(kid));
