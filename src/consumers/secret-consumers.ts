import type { SecretConsumer } from '../contract/api-types';
import type { SqlSession, WriteTransaction } from '../storage/sql';

export type { SecretConsumer };

/** How long after a change a consumer may keep the old version before it counts as stale. */
export const STALE_AFTER_MS = 60_000;

/** What one `SecretsResolved` entry tells the projection. */
export interface ResolveRead {
  tokenId: string;
  tokenName: string;
  plugin: string;
  keys: readonly { key: string; version: number }[];
  at: string;
  seq: number;
}

type ConsumerRow = [tokenId: string, tokenName: string, plugin: string, version: number, resolvedAt: string, status: string, valueVersion: number | null, changedAt: string, revokedAt: string | null];

const COLUMNS = ['key', 'token_id', 'plugin', 'token_name', 'version', 'resolved_at', 'seq'];

/**
 * `secret_consumers`: who holds which version of each key, kept by the resolve that reads it (in
 * the same transaction as its `SecretsResolved` entry), so a question about one key reads that
 * key's rows and never the audit log. "Current" is judged when asked, against the read model:
 * the rows never need rewriting when a secret changes.
 */
export class SecretConsumers {
  /** Deferred to the end of the batch: the resolves of one batch write their rows in one statement. */
  record(tx: WriteTransaction, read: ResolveRead): void {
    tx.deferUpsert(
      'secret_consumers',
      COLUMNS,
      3,
      read.keys.map(({ key, version }) => [key, read.tokenId, read.plugin, read.tokenName, version, read.at, read.seq]),
    );
  }

  /** Empties the table (before a rebuild from the log: consumers-rebuild.ts). */
  async clear(tx: WriteTransaction): Promise<void> {
    await tx.run('DELETE FROM secret_consumers');
  }

  /** Every consumer of `key`, most recent read first; `now` decides who is stale. */
  async list(s: SqlSession, key: string, now: Date): Promise<SecretConsumer[]> {
    const rows = await s.values<ConsumerRow>(
      `SELECT c.token_id, c.token_name, c.plugin, c.version, c.resolved_at, s.status, e.version, COALESCE(e.at, s.updated_at), t.revoked_at
         FROM secret_consumers c
         JOIN secrets s ON s.key = c.key
         LEFT JOIN events e ON e.id = s.value_event_id
         LEFT JOIN tokens t ON t.id = c.token_id
        WHERE c.key = ?
        ORDER BY c.resolved_at DESC, c.token_id, c.plugin`,
      [key],
    );
    const staleBefore = new Date(now.getTime() - STALE_AFTER_MS).toISOString();
    return rows.map(([tokenId, tokenName, plugin, version, resolvedAt, status, valueVersion, changedAt, revokedAt]) => {
      const current = status === 'active' && valueVersion !== null && version >= Number(valueVersion);
      // A removed secret has nothing newer to fetch, and a revoked token cannot fetch it: neither is waited for.
      const stale = !current && status === 'active' && revokedAt === null && changedAt < staleBefore;
      return { tokenId, tokenName, plugin, version: Number(version), resolvedAt, current, stale };
    });
  }

  /** How many consumers are stale now, over every key (the metric). */
  async countStale(s: SqlSession, now: Date): Promise<number> {
    const row = await s.get<{ n: number | string }>(
      `SELECT COUNT(*) AS n
         FROM secret_consumers c
         JOIN secrets s ON s.key = c.key
         JOIN events e ON e.id = s.value_event_id
         LEFT JOIN tokens t ON t.id = c.token_id
        WHERE s.status = 'active' AND c.version < e.version AND e.at < ? AND t.revoked_at IS NULL`,
      [new Date(now.getTime() - STALE_AFTER_MS).toISOString()],
    );
    return Number(row?.n ?? 0);
  }
}
