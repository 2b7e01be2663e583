import { SqlSession, SqlValue, placeholders } from '../storage/sql';
import { StoredEventType } from '../event-store/stored-event-types';
import { secretStream } from './domain/events';
import { ABSENT, PresentSecretState, SecretState } from './domain/secret-state';

/** A key's current value as a resolve may open it; `mismatch` is set when the log disagrees with the row. */
export interface ResolvableValue {
  version: number;
  valueEventId: string;
  mismatch?: string;
  expiresAt?: string;
}

/** What the log says of the event a row names: its stream and version, whether it seals a value, the stream's head, and whether a later event replaced or removed its value. */
type ValueEventInLog = [stream: string | null, version: number | null, hasValue: unknown, streamVersion: number | null, superseded: unknown];

/**
 * Why the event a row names is not the current value of `key` at `version`, or undefined when it
 * is: it must be in the log, in the key's stream, seal a value, and not be followed by another
 * value or a removal; and the row's version must be the stream's head.
 */
function valueEventMismatch(key: string, version: number, [stream, valueVersion, hasValue, streamVersion, superseded]: ValueEventInLog): string | undefined {
  if (stream === null) return 'the read model names a value event that is not in the log';
  if (stream !== secretStream(key)) return 'the read model names a value event of another key';
  if (!hasValue) return `the read model names version ${valueVersion}, an event that seals no value`;
  if (streamVersion !== version) return `the read model says version ${version}; the log's stream is at version ${streamVersion}`;
  if (Boolean(superseded)) return `the read model names the value of version ${valueVersion}, which a later event in the log replaced or removed`;
  return undefined;
}

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
  expires_at: string | null;
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
    ...(row.expires_at !== null ? { expiresAt: row.expires_at } : {}),
  };
}

const UPSERT_SECRET = `INSERT INTO secrets (key, status, version, description, created_at, created_by, updated_at, updated_by, value_event_id, expires_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (key) DO UPDATE SET status = excluded.status, version = excluded.version,
    description = excluded.description, created_at = excluded.created_at, created_by = excluded.created_by,
    updated_at = excluded.updated_at, updated_by = excluded.updated_by, value_event_id = excluded.value_event_id,
    expires_at = excluded.expires_at`;

const SET_REVISION = "INSERT INTO ledger_counters (name, value) VALUES ('revision', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value";

function upsertValues(state: PresentSecretState): SqlValue[] {
  return [state.key, state.status, state.version, state.description, state.createdAt, state.createdBy, state.updatedAt, state.updatedBy, state.valueEventId, state.expiresAt ?? null];
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
   * active key that has a value (keys never stored, removed or without a value are left out),
   * checked against the log in the same statement. The row is state outside the hash chain: a
   * value event is opened only if the log says it is the key's current value (`mismatch` says
   * why not otherwise). One statement instead of one per key; only these columns, as arrays,
   * because the driver pays per value it hands over (whole rows as objects took over twice as
   * long on SQLite: docs/BENCHMARKS.md, Figures behind design choices).
   */
  async resolvable(s: SqlSession, keys: readonly string[]): Promise<Map<string, ResolvableValue>> {
    const rows = await s.values<[string, number, string, string | null, ...ValueEventInLog]>(
      `SELECT s.key, s.version, s.value_event_id, s.expires_at, e.stream, e.version, e.ciphertext IS NOT NULL,
              (SELECT MAX(h.version) FROM events h WHERE h.stream = e.stream),
              EXISTS (SELECT 1 FROM events l WHERE l.stream = e.stream AND l.version > e.version AND (l.ciphertext IS NOT NULL OR l.type = ?))
         FROM secrets s LEFT JOIN events e ON e.id = s.value_event_id
        WHERE s.status = 'active' AND s.value_event_id IS NOT NULL AND s.key IN (${placeholders(keys.length)})`,
      [StoredEventType.SecretRemoved, ...keys],
    );
    return new Map(
      rows.map(([key, version, valueEventId, expiresAt, ...inLog]) => [
        key,
        { version, valueEventId, mismatch: valueEventMismatch(key, version, inLog), ...(expiresAt !== null ? { expiresAt } : {}) },
      ]),
    );
  }

  /** Up to `limit` active secrets with keys after `afterKey` ('' for the first page), in key order. */
  async pageActive(s: SqlSession, afterKey: string, limit: number): Promise<PresentSecretState[]> {
    return (await s.all<SecretRow>("SELECT * FROM secrets WHERE status = 'active' AND key > ? ORDER BY key LIMIT ?", [afterKey, limit])).map(toState);
  }

  /** Active secrets that expire from `from` (inclusive) to `until` (exclusive), soonest first: at most `limit`, and how many there are. */
  async expiringBetween(s: SqlSession, from: string, until: string, limit: number): Promise<{ items: { key: string; expiresAt: string }[]; count: number }> {
    const where = "FROM secrets WHERE expires_at >= ? AND expires_at < ? AND status = 'active'";
    const items = await s.all<{ key: string; expires_at: string }>(`SELECT key, expires_at ${where} ORDER BY expires_at, key LIMIT ?`, [from, until, limit]);
    const count = items.length < limit ? items.length : Number((await s.get<{ n: number | string }>(`SELECT COUNT(*) AS n ${where}`, [from, until]))?.n ?? 0);
    return { items: items.map((row) => ({ key: row.key, expiresAt: row.expires_at })), count };
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
