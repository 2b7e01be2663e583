import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * PostgreSQL's twin of the SQLite initial schema (`../../migrations/`): the same tables, column
 * names and meanings, so the same statements (with `$n` placeholders) run on both engines.
 *
 * - `seq` is BIGINT without a sequence: the writer assigns head + 1 under the append lock, as on
 *   SQLite. A sequence would hand out numbers in start order, not commit order, and leave gaps.
 * - `data`, `actor` and `at` stay TEXT: the hash chain covers their exact text, which jsonb or
 *   timestamptz would reformat.
 * - Every TEXT column collates "C" (byte order), which is what SQLite compares and sorts by;
 *   under the server's default collation `ORDER BY key` could list secrets in another order.
 * - Counters of `seq` are BIGINT, like SQLite's 64-bit INTEGER; stream versions stay INTEGER.
 */
export class PgInitialSchema1764201600000 implements MigrationInterface {
  name = 'PgInitialSchema1764201600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE events (
        seq        BIGINT  PRIMARY KEY,
        id         TEXT    COLLATE "C" NOT NULL UNIQUE,
        stream     TEXT    COLLATE "C" NOT NULL,
        version    INTEGER NOT NULL CHECK (version >= 1),
        type       TEXT    COLLATE "C" NOT NULL,
        data       TEXT    COLLATE "C" NOT NULL,
        ciphertext BYTEA,
        actor      TEXT    COLLATE "C" NOT NULL,
        at         TEXT    COLLATE "C" NOT NULL,
        prev_hash  TEXT    COLLATE "C" NOT NULL,
        hash       TEXT    COLLATE "C" NOT NULL,
        UNIQUE (stream, version)
      )`);
    // One function for every append-only table; the trigger names the table in its message,
    // worded as SQLite's RAISE(ABORT, …) is. TRUNCATE skips row triggers, so it gets its own.
    await q.query(`
      CREATE FUNCTION refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% append-only: % refused', TG_ARGV[0], TG_OP USING ERRCODE = 'integrity_constraint_violation';
      END $$`);
    await q.query(`CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION refuse_rewrite('events are')`);
    await q.query(`CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION refuse_rewrite('events are')`);
    await q.query(`CREATE TRIGGER events_refuse_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite('events are')`);

    // Wrapped data keys live outside the log so that a master-key rotation rewraps them
    // without touching (or re-hashing) a single event row.
    await q.query(`
      CREATE TABLE data_keys (
        event_id TEXT  COLLATE "C" PRIMARY KEY REFERENCES events (id),
        kid      TEXT  COLLATE "C" NOT NULL,
        wrapped  BYTEA NOT NULL
      )`);
    await q.query(`CREATE INDEX data_keys_by_kid ON data_keys (kid)`);

    // Read model: one row per key ever added; removed keys keep their row (status 'removed')
    // so that the next add continues the version sequence.
    await q.query(`
      CREATE TABLE secrets (
        key            TEXT    COLLATE "C" PRIMARY KEY,
        status         TEXT    COLLATE "C" NOT NULL CHECK (status IN ('active', 'removed')),
        version        INTEGER NOT NULL,
        description    TEXT    COLLATE "C" NOT NULL DEFAULT '',
        created_at     TEXT    COLLATE "C" NOT NULL,
        created_by     TEXT    COLLATE "C" NOT NULL,
        updated_at     TEXT    COLLATE "C" NOT NULL,
        updated_by     TEXT    COLLATE "C" NOT NULL,
        value_event_id TEXT    COLLATE "C"
      )`);
    await q.query(`CREATE TABLE ledger_counters (name TEXT COLLATE "C" PRIMARY KEY, value BIGINT NOT NULL)`);

    await q.query(`
      CREATE TABLE tokens (
        id         TEXT COLLATE "C" PRIMARY KEY,
        name       TEXT COLLATE "C" NOT NULL,
        role       TEXT COLLATE "C" NOT NULL CHECK (role IN ('admin', 'executor', 'auditor')),
        plugins    TEXT COLLATE "C",
        token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
        created_at TEXT COLLATE "C" NOT NULL,
        revoked_at TEXT COLLATE "C"
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['tokens', 'ledger_counters', 'secrets', 'data_keys', 'events']) {
      await q.query(`DROP TABLE ${table}`);
    }
    await q.query('DROP FUNCTION refuse_rewrite()');
  }
}
