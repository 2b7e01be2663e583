import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row that the readiness check rewrites after a storage fault, to learn whether writes
 * succeed again without waiting for a client's write (see StorageReadiness).
 */
export class PgStorageProbe1764202050000 implements MigrationInterface {
  name = 'PgStorageProbe1764202050000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE storage_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at TEXT COLLATE "C" NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE storage_probe');
  }
}
