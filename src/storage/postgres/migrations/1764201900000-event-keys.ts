import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One (key, seq) row per secret key an event concerns, written in the same transaction as the
 * event, for the audit trail's key filter (see the SQLite migration of the same date for why).
 * Like the log it refuses UPDATE, DELETE and TRUNCATE, and it replaces `events_by_stream`.
 *
 * SQLite's migration also indexes the events already in the log. No PostgreSQL log predates
 * this table — the engine arrived with all of these migrations, which run together on an empty
 * database — so there is nothing to index here.
 */
export class PgEventKeys1764201900000 implements MigrationInterface {
  name = 'PgEventKeys1764201900000';

  async up(q: QueryRunner): Promise<void> {
    // The primary key's index is the table's only access path, and lists a key's events in seq order.
    await q.query(`CREATE TABLE event_keys (key TEXT COLLATE "C" NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (key, seq))`);
    await q.query(`CREATE TRIGGER event_keys_refuse_update BEFORE UPDATE ON event_keys FOR EACH ROW EXECUTE FUNCTION refuse_rewrite('event_keys is')`);
    await q.query(`CREATE TRIGGER event_keys_refuse_delete BEFORE DELETE ON event_keys FOR EACH ROW EXECUTE FUNCTION refuse_rewrite('event_keys is')`);
    await q.query(`CREATE TRIGGER event_keys_refuse_truncate BEFORE TRUNCATE ON event_keys FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite('event_keys is')`);
    await q.query(`DROP INDEX events_by_stream`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX events_by_stream ON events (stream, seq)`);
    await q.query('DROP TABLE event_keys');
  }
}
