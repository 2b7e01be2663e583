import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The append-only event log, the envelope keys beside it, the secrets read model and the tokens.
 *
 * `seq` is assigned by the single writer as head + 1 inside the append transaction, so it is
 * global and gap-free; `UNIQUE(stream, version)` is the last guard of optimistic concurrency.
 * The triggers make the database itself refuse to rewrite history, whoever connects.
 */
export class InitialSchema1764201600000 implements MigrationInterface {
  name = 'InitialSchema1764201600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE events (
        seq        INTEGER PRIMARY KEY,
        id         TEXT    NOT NULL UNIQUE,
        stream     TEXT    NOT NULL,
        version    INTEGER NOT NULL CHECK (version >= 1),
        type       TEXT    NOT NULL,
        data       TEXT    NOT NULL,
        ciphertext BLOB,
        actor      TEXT    NOT NULL,
        at         TEXT    NOT NULL,
        prev_hash  TEXT    NOT NULL,
        hash       TEXT    NOT NULL,
        UNIQUE (stream, version)
      )`);
    await q.query(`
      CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
      BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END`);
    await q.query(`
      CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
      BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END`);

    // Wrapped data keys live outside the log so that a master-key rotation rewraps them
    // without touching (or re-hashing) a single event row.
    await q.query(`
      CREATE TABLE data_keys (
        event_id TEXT PRIMARY KEY REFERENCES events (id),
        kid      TEXT NOT NULL,
        wrapped  BLOB NOT NULL
      )`);
    await q.query(`CREATE INDEX data_keys_by_kid ON data_keys (kid)`);

    // Read model: one row per key ever added; removed keys keep their row (status 'removed')
    // so that the next add continues the version sequence.
    await q.query(`
      CREATE TABLE secrets (
        key            TEXT PRIMARY KEY,
        status         TEXT    NOT NULL CHECK (status IN ('active', 'removed')),
        version        INTEGER NOT NULL,
        description    TEXT    NOT NULL DEFAULT '',
        created_at     TEXT    NOT NULL,
        created_by     TEXT    NOT NULL,
        updated_at     TEXT    NOT NULL,
        updated_by     TEXT    NOT NULL,
        value_event_id TEXT
      )`);
    await q.query(`CREATE TABLE ledger_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)`);

    await q.query(`
      CREATE TABLE tokens (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        role       TEXT NOT NULL CHECK (role IN ('admin', 'executor', 'auditor')),
        plugins    TEXT,
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['tokens', 'ledger_counters', 'secrets', 'data_keys', 'events']) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
