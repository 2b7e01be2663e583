import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `secret_consumers`: who holds which version. One row per (key, token, plugin) — the version of
 * the key that token last resolved for that plugin, when, and the seq of that `SecretsResolved`
 * event — upserted in the same transaction as the event, so answering "who holds KEY" reads a
 * key's few rows instead of the audit log. It is a projection of the log (every field comes
 * from a hashed event), and like the `secrets` read model it is rewritten in place.
 *
 * Every `SecretsResolved` entry records `{key, version}` per key it returned, so the rows of
 * existing logs are derived here from the entries already stored.
 */
export class SecretConsumers1764202400000 implements MigrationInterface {
  name = 'SecretConsumers1764202400000';

  async up(q: QueryRunner): Promise<void> {
    // WITHOUT ROWID: the primary key is the only access path, and lists a key's consumers together.
    await q.query(`CREATE TABLE secret_consumers (
      key         TEXT    NOT NULL,
      token_id    TEXT    NOT NULL,
      plugin      TEXT    NOT NULL,
      token_name  TEXT    NOT NULL,
      version     INTEGER NOT NULL,
      resolved_at TEXT    NOT NULL,
      seq         INTEGER NOT NULL,
      PRIMARY KEY (key, token_id, plugin)
    ) WITHOUT ROWID`);
    await q.query(`
      INSERT INTO secret_consumers (key, token_id, plugin, token_name, version, resolved_at, seq)
      SELECT json_extract(read.value, '$.key'), json_extract(e.actor, '$.id'), json_extract(e.data, '$.plugin'),
             json_extract(e.actor, '$.name'), json_extract(read.value, '$.version'), e.at, e.seq
        FROM events e, json_each(e.data, '$.keys') read
       WHERE e.type = 'SecretsResolved'
       ORDER BY e.seq
      ON CONFLICT (key, token_id, plugin) DO UPDATE SET token_name = excluded.token_name, version = excluded.version,
        resolved_at = excluded.resolved_at, seq = excluded.seq
       WHERE excluded.seq > secret_consumers.seq`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE secret_consumers');
  }
}
