import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Where each relay over the log has got to: the `seq` of the last event it has handed on
 * (BIGINT, as `events.seq` is). The log is the outbox; this row is the only relay state.
 */
export class PgRelayCheckpoint1764201800000 implements MigrationInterface {
  name = 'PgRelayCheckpoint1764201800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE relay_checkpoints (name TEXT COLLATE "C" PRIMARY KEY, seq BIGINT NOT NULL CHECK (seq >= 0))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE relay_checkpoints');
  }
}
