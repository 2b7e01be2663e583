import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail's key filter answers "everything that happened to this secret": its changes
 * and every read of it. Reads are `SecretsResolved` events on the `resolutions` stream naming
 * many keys in their data, so no index on `events` finds them by key. `event_keys` holds one
 * (key, seq) row per secret key an event concerns — the key of its own secret stream, each key
 * a resolve read or found missing — written in the same transaction as the event. Every row is
 * derived from hashed fields of its event (stream, data), so the chain vouches for it, and like
 * the log it refuses UPDATE and DELETE.
 *
 * It replaces `events_by_stream`, whose only use was that filter. Existing logs are indexed here.
 */
export class EventKeys1764201900000 implements MigrationInterface {
  name = 'EventKeys1764201900000';

  async up(q: QueryRunner): Promise<void> {
    // WITHOUT ROWID: the primary key is the whole row, and a key's events come out in seq order.
    await q.query(`CREATE TABLE event_keys (key TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (key, seq)) WITHOUT ROWID`);
    await q.query(`INSERT INTO event_keys (key, seq) SELECT substr(stream, 8), seq FROM events WHERE substr(stream, 1, 7) = 'secret-'`);
    await q.query(`
      INSERT OR IGNORE INTO event_keys (key, seq)
      SELECT json_extract(read.value, '$.key'), e.seq FROM events e, json_each(e.data, '$.keys') read WHERE e.type = 'SecretsResolved'`);
    await q.query(`
      INSERT OR IGNORE INTO event_keys (key, seq)
      SELECT missing.value, e.seq FROM events e, json_each(e.data, '$.missing') missing WHERE e.type = 'SecretsResolved'`);
    await q.query(`
      CREATE TRIGGER event_keys_refuse_update BEFORE UPDATE ON event_keys
      BEGIN SELECT RAISE(ABORT, 'event_keys is append-only: UPDATE refused'); END`);
    await q.query(`
      CREATE TRIGGER event_keys_refuse_delete BEFORE DELETE ON event_keys
      BEGIN SELECT RAISE(ABORT, 'event_keys is append-only: DELETE refused'); END`);
    await q.query(`DROP INDEX events_by_stream`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX events_by_stream ON events (stream, seq)`);
    await q.query('DROP TRIGGER event_keys_refuse_delete');
    await q.query('DROP TRIGGER event_keys_refuse_update');
    await q.query('DROP TABLE event_keys');
  }
}
