import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per live service instance: the master key ids it holds and the one it wraps new values
 * with, renewed by its heartbeat until `expires_at` and deleted when it stops (see
 * src/master-keys/key-holders.ts). A rotation reads it to refuse a key some instance lacks.
 * Times are ISO-8601 UTC text of one fixed width, so text order is time order.
 */
export class MasterKeyHolders1764202100000 implements MigrationInterface {
  name = 'MasterKeyHolders1764202100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE master_key_holders (
      instance TEXT PRIMARY KEY,
      host TEXT NOT NULL,
      pid INTEGER NOT NULL,
      active_kid TEXT NOT NULL,
      held_kids TEXT NOT NULL,
      started_at TEXT NOT NULL,
      expires_at TEXT NOT NULL
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE master_key_holders');
  }
}
