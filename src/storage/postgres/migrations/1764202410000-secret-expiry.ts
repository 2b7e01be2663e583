import { MigrationInterface, QueryRunner } from 'typeorm';

/** A secret's optional expiry (see the SQLite migration of the same date), compared in byte order ("C"). */
export class PgSecretExpiry1764202410000 implements MigrationInterface {
  name = 'PgSecretExpiry1764202410000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE secrets ADD COLUMN expires_at TEXT COLLATE "C"');
    await q.query('CREATE INDEX secrets_by_expiry ON secrets (expires_at) WHERE expires_at IS NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX secrets_by_expiry');
    await q.query('ALTER TABLE secrets DROP COLUMN expires_at');
  }
}
