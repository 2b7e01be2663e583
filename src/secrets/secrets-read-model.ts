import type { Database, Statement } from 'better-sqlite3';
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

/**
 * The current state of every secret: the `secrets` table plus the store-wide revision counter.
 * Written only inside the writer's transaction that appends the events it reflects.
 */
export class SecretsReadModel {
  private readonly stmt: {
    load: Statement<[string], SecretRow>;
    resolvable: Statement<[string], [string, number, string]>;
    upsert: Statement<SecretRow>;
    pageActive: Statement<[string, number], SecretRow>;
    listAll: Statement<[], SecretRow>;
    revision: Statement<[], { value: number }>;
    setRevision: Statement<[number]>;
  };

  constructor(private readonly db: Database) {
    this.stmt = {
      load: db.prepare('SELECT * FROM secrets WHERE key = ?'),
      resolvable: db
        .prepare(
          `SELECT key, version, value_event_id FROM secrets
            WHERE status = 'active' AND value_event_id IS NOT NULL AND key IN (SELECT value FROM json_each(?))`,
        )
        .raw(true) as unknown as Statement<[string], [string, number, string]>,
      upsert: db.prepare(
        `INSERT INTO secrets (key, status, version, description, created_at, created_by, updated_at, updated_by, value_event_id)
         VALUES (@key, @status, @version, @description, @created_at, @created_by, @updated_at, @updated_by, @value_event_id)
         ON CONFLICT (key) DO UPDATE SET status = excluded.status, version = excluded.version,
           description = excluded.description, created_at = excluded.created_at, created_by = excluded.created_by,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by, value_event_id = excluded.value_event_id`,
      ),
      pageActive: db.prepare("SELECT * FROM secrets WHERE status = 'active' AND key > ? ORDER BY key LIMIT ?"),
      listAll: db.prepare('SELECT * FROM secrets ORDER BY key'),
      revision: db.prepare("SELECT value FROM ledger_counters WHERE name = 'revision'"),
      setRevision: db.prepare(
        "INSERT INTO ledger_counters (name, value) VALUES ('revision', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      ),
    };
  }

  load(key: string): SecretState {
    const row = this.stmt.load.get(key);
    return row ? toState(row) : ABSENT;
  }

  /**
   * What a resolve needs of many keys, in one statement: the version and value event of each
   * active key that has a value (keys never stored, removed or without a value are left out).
   * One statement instead of one per key is one read of the WAL instead of a dozen; only these
   * three columns, as arrays, because better-sqlite3 pays per value it hands over (whole rows as
   * objects took over twice as long: docs/BENCHMARKS.md, Figures behind design choices).
   */
  resolvable(keys: readonly string[]): Map<string, { version: number; valueEventId: string }> {
    const found = new Map<string, { version: number; valueEventId: string }>();
    for (const [key, version, valueEventId] of this.stmt.resolvable.all(JSON.stringify(keys))) found.set(key, { version, valueEventId });
    return found;
  }

  /** Up to `limit` active secrets with keys after `afterKey` ('' for the first page), in key order. */
  pageActive(afterKey: string, limit: number): PresentSecretState[] {
    return this.stmt.pageActive.all(afterKey, limit).map(toState);
  }

  /** Every row, removed ones included: what a rebuild must reproduce exactly. */
  snapshot(): PresentSecretState[] {
    return this.stmt.listAll.all().map(toState);
  }

  save(state: SecretState): void {
    if (state.status === 'absent') return;
    this.stmt.upsert.run({
      key: state.key,
      status: state.status,
      version: state.version,
      description: state.description,
      created_at: state.createdAt,
      created_by: state.createdBy,
      updated_at: state.updatedAt,
      updated_by: state.updatedBy,
      value_event_id: state.valueEventId,
    });
  }

  revision(): number {
    return this.stmt.revision.get()?.value ?? 0;
  }

  setRevision(revision: number): void {
    this.stmt.setRevision.run(revision);
  }

  clear(): void {
    this.db.prepare('DELETE FROM secrets').run();
    this.db.prepare("DELETE FROM ledger_counters WHERE name = 'revision'").run();
  }
}
