import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When each token last authenticated, to the minute (see src/auth/token-last-use.ts): written in
 * place, at most once a minute per token, and outside the hash chain — an operator's hint, not
 * evidence. ISO-8601 UTC text of one fixed width, so text order is time order; NULL: never used.
 */
export class TokenLastUsed1764202200000 implements MigrationInterface {
  name = 'TokenLastUsed1764202200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tokens ADD COLUMN last_used_at TEXT');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tokens DROP COLUMN last_used_at');
  }
}
