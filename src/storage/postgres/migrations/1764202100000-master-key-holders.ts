import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per live service instance: the master key ids it holds and the one it wraps new values
 * with, renewed by its heartbeat until `expires_at` and deleted when it stops (see
 * src/master-keys/key-holders.ts). Times are ISO-8601 UTC text compared in byte order ("C").
 */
export class PgMasterKeyHolders1764202100000 implements MigrationInterface {
  name = 'PgMasterKeyHolders1764202100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE master_key_holders (
      instance TEXT COLLATE "C" PRIMARY KEY,
      host TEXT NOT NULL,
      pid INTEGER NOT NULL,
      active_kid TEXT COLLATE "C" NOT NULL,
      held_kids TEXT COLLATE "C" NOT NULL,
      started_at TEXT COLLATE "C" NOT NULL,
      expires_at TEXT COLLATE "C" NOT NULL
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE master_key_holders');
  }
}
