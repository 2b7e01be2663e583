import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit API's filter indexes, as on SQLite, each ordered by seq within its filter value.
 *
 * The actor filter's expression index is written `json_extract(actor, '$.id')` on SQLite, and
 * AuditLog must use exactly that expression. PostgreSQL has no json_extract, so this migration
 * defines one for the `$.member.member` paths the service uses (string members; SQLite would
 * return numbers as numbers), and the same query text finds the same index on both engines.
 * It is IMMUTABLE (the cast to jsonb and `#>>` are) so that it may appear in an index, and
 * plain SQL so that the planner inlines it.
 */
export class PgAuditIndexes1764201700000 implements MigrationInterface {
  name = 'PgAuditIndexes1764201700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION json_extract(document TEXT, path TEXT) RETURNS TEXT
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
      AS $$ SELECT document::jsonb #>> string_to_array(substr(path, 3), '.') $$`);
    await q.query(`CREATE INDEX events_by_type ON events (type, seq)`);
    await q.query(`CREATE INDEX events_by_stream ON events (stream, seq)`);
    await q.query(`CREATE INDEX events_by_actor ON events (json_extract(actor, '$.id'), seq)`);
    await q.query(`CREATE INDEX events_by_at ON events (at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const index of ['events_by_at', 'events_by_actor', 'events_by_stream', 'events_by_type']) {
      await q.query(`DROP INDEX ${index}`);
    }
    await q.query('DROP FUNCTION json_extract(TEXT, TEXT)');
  }
}
