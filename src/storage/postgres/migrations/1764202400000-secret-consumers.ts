import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `secret_consumers`: one row per (key, token, plugin), the version that token last resolved for
 * that plugin (see the SQLite migration of the same date for why), derived from the
 * `SecretsResolved` entries already in the log.
 */
export class PgSecretConsumers1764202400000 implements MigrationInterface {
  name = 'PgSecretConsumers1764202400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE secret_consumers (
      key         TEXT    COLLATE "C" NOT NULL,
      token_id    TEXT    COLLATE "C" NOT NULL,
      plugin      TEXT    COLLATE "C" NOT NULL,
      token_name  TEXT    NOT NULL,
      version     INTEGER NOT NULL,
      resolved_at TEXT    COLLATE "C" NOT NULL,
      seq         BIGINT  NOT NULL,
      PRIMARY KEY (key, token_id, plugin)
    )`);
    // DISTINCT ON: one row per consumer, its newest read (an upsert may not touch a row twice).
    await q.query(`
      INSERT INTO secret_consumers (key, token_id, plugin, token_name, version, resolved_at, seq)
      SELECT DISTINCT ON (read->>'key', e.actor::jsonb->>'id', e.data::jsonb->>'plugin')
             read->>'key', e.actor::jsonb->>'id', e.data::jsonb->>'plugin', e.actor::jsonb->>'name', (read->>'version')::integer, e.at, e.seq
        FROM events e CROSS JOIN LATERAL jsonb_array_elements(e.data::jsonb->'keys') AS read
       WHERE e.type = 'SecretsResolved'
       ORDER BY read->>'key', e.actor::jsonb->>'id', e.data::jsonb->>'plugin', e.seq DESC`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE secret_consumers');
  }
}
