import { SqlSession, SqlValue, placeholders } from '../storage/sql';
import { ABSENT, PresentSecretState, SecretState } from './domain/secret-state';

interface SecretRow {
  key: string;
  status: 'active' | 'removed';
  version: number;
  description: string;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
  value_event_id: string | null;
}

function toState(row: SecretRow): PresentSecretState {
  return {
    status: row.status,
    key: row.key,
    version: row.version,
    description: row.description,
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
    valueEventId: row.value_event_id,
  };
}

const UPSERT_SECRET = `INSERT INTO secrets (key, status, version, description, created_at, created_by, updated_at, updated_by, value_event_id)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (key) DO UPDATE SET status = excluded.status, version = excluded.version,
    description = excluded.description, created_at = excluded.created_at, created_by = excluded.created_by,
    updated_at = excluded.updated_at, updated_by = excluded.updated_by, value_event_id = excluded.value_event_id`;

const SET_REVISION = "INSERT INTO ledger_counters (name, value) VALUES ('revision', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value";

function upsertValues(state: PresentSecretState): SqlValue[] {
  return [state.key, state.status, state.version, state.description, state.createdAt, state.createdBy, state.updatedAt, state.updatedBy, state.valueEventId];
}

/**
 * The current state of every secret: the `secrets` table plus the store-wide revision counter.
 * Written only inside the transaction that appends the events it reflects; every method takes
 * the session it runs in.
 */
export class SecretsReadModel {
  async load(s: SqlSession, key: string): Promise<SecretState> {
    const row = await s.get<SecretRow>('SELECT * FROM secrets WHERE key = ?', [key]);
    return row ? toState(row) : ABSENT;
  }

  /** A key's state and the store-wide revision, in one statement: a command needs both. */
  async loadWithRevision(s: SqlSession, key: string): Promise<{ state: SecretState; revision: number }> {
    const row = await s.get<Partial<SecretRow> & { revision: number | null }>(
      `SELECT (SELECT value FROM ledger_counters WHERE name = 'revision') AS revision, s.*
         FROM (SELECT 1 AS one) AS one LEFT JOIN secrets s ON s.key = ?`,
      [key],
    );
    const state = row?.key === undefined || row.key === null ? ABSENT : toState(row as SecretRow);
    return { state, revision: row?.revision ?? 0 };
  }

  /**
   * What a resolve needs of many keys, in one statement: the version and value event of each
   * active key that has a value (keys never stored, removed or without a value are left out).
   * One statement instead of one per key; only these three columns, as arrays, because the
   * driver pays per value it hands over (whole rows as objects took over twice as long on
   * SQLite: docs/BENCHMARKS.md, Figures behind design choices).
   */
  async resolvable(s: SqlSession, keys: readonly string[]): Promise<Map<string, { version: number; valueEventId: string }>> {
    const rows = await s.values<[string, number, string]>(
      `SELECT key, version, value_event_id FROM secrets
        WHERE status = 'active' AND value_event_id IS NOT NULL AND key IN (${placeholders(keys.length)})`,
      keys,
    );
    return new Map(rows.map(([key, version, valueEventId]) => [key, { version, valueEventId }]));
  }

  /** Up to `limit` active secrets with keys after `afterKey` ('' for the first page), in key order. */
  async pageActive(s: SqlSession, afterKey: string, limit: number): Promise<PresentSecretState[]> {
    return (await s.all<SecretRow>("SELECT * FROM secrets WHERE status = 'active' AND key > ? ORDER BY key LIMIT ?", [afterKey, limit])).map(toState);
  }

  /** Every row, removed ones included: what a rebuild must reproduce exactly. */
  async snapshot(s: SqlSession): Promise<PresentSecretState[]> {
    return (await s.all<SecretRow>('SELECT * FROM secrets ORDER BY key')).map(toState);
  }

  async save(s: SqlSession, state: SecretState): Promise<void> {
    if (state.status === 'absent') return;
    await s.run(UPSERT_SECRET, upsertValues(state));
  }

  /** What a command leaves: the key's new state and the new revision, in one statement where the engine allows. */
  async saveWithRevision(s: SqlSession, state: SecretState, revision: number): Promise<void> {
    if (state.status === 'absent' || !s.dialect.writesInOneStatement) {
      await this.save(s, state);
      await this.setRevision(s, revision);
      return;
    }
    await s.run(`WITH saved AS (${UPSERT_SECRET} RETURNING key) ${SET_REVISION}`, [...upsertValues(state), revision]);
  }

  async revision(s: SqlSession): Promise<number> {
    return (await s.get<{ value: number }>("SELECT value FROM ledger_counters WHERE name = 'revision'"))?.value ?? 0;
  }

  async setRevision(s: SqlSession, revision: number): Promise<void> {
    await s.run(SET_REVISION, [revision]);
  }

  async clear(s: SqlSession): Promise<void> {
    await s.run('DELETE FROM secrets');
    await s.run("DELETE FROM ledger_counters WHERE name = 'revision'");
  }
}
