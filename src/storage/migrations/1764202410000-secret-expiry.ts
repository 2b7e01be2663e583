import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A secret's optional expiry, as its events state it: ISO-8601 UTC text of one fixed width, so
 * text order is time order. The partial index lists the secrets that expire, soonest first,
 * for readiness and the metrics.
 */
export class SecretExpiry1764202410000 implements MigrationInterface {
  name = 'SecretExpiry1764202410000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE secrets ADD COLUMN expires_at TEXT');
    await q.query('CREATE INDEX secrets_by_expiry ON secrets (expires_at) WHERE expires_at IS NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX secrets_by_expiry');
    await q.query('ALTER TABLE secrets DROP COLUMN expires_at');
  }
}
