import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Where each relay over the log (the NATS notifications relay first) has got to: the `seq` of
 * the last event it has handed on. The log is the outbox; this row is the only relay state.
 */
export class RelayCheckpoint1764201800000 implements MigrationInterface {
  name = 'RelayCheckpoint1764201800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE relay_checkpoints (name TEXT PRIMARY KEY, seq INTEGER NOT NULL CHECK (seq >= 0))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE relay_checkpoints');
  }
}
