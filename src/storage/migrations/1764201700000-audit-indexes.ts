import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the audit API's filters, so that a filtered first page reads a handful of index
 * entries instead of scanning a million rows. Each is ordered by seq within its filter value,
 * which is the order pages are read in. The actor filter uses an expression index: the
 * query must use exactly `json_extract(actor, '$.id')` for SQLite to pick it (AuditLog does).
 */
export class AuditIndexes1764201700000 implements MigrationInterface {
  name = 'AuditIndexes1764201700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX events_by_type ON events (type, seq)`);
    await q.query(`CREATE INDEX events_by_stream ON events (stream, seq)`);
    await q.query(`CREATE INDEX events_by_actor ON events (json_extract(actor, '$.id'), seq)`);
    await q.query(`CREATE INDEX events_by_at ON events (at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const index of ['events_by_at', 'events_by_actor', 'events_by_stream', 'events_by_type']) {
      await q.query(`DROP INDEX ${index}`);
    }
  }
}
