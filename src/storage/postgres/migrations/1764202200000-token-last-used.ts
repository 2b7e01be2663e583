import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When each token last authenticated, to the minute (see src/auth/token-last-use.ts): written in
 * place, at most once a minute per token, outside the hash chain. ISO-8601 UTC text compared in
 * byte order ("C"); NULL: never used.
 */
export class PgTokenLastUsed1764202200000 implements MigrationInterface {
  name = 'PgTokenLastUsed1764202200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tokens ADD COLUMN last_used_at TEXT COLLATE "C"');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tokens DROP COLUMN last_used_at');
  }
}
