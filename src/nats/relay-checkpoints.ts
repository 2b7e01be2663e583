import type { SqlSession } from '../storage/sql';

/** The `relay_checkpoints` table: the last `seq` each relay over the log has handed on. */
export class RelayCheckpoints {
  async get(s: SqlSession, name: string): Promise<number> {
    return (await s.get<{ seq: number }>('SELECT seq FROM relay_checkpoints WHERE name = ?', [name]))?.seq ?? 0;
  }

  /** Inside a write transaction. Never moves a checkpoint backwards. */
  async save(s: SqlSession, name: string, seq: number): Promise<void> {
    await s.run(
      `INSERT INTO relay_checkpoints (name, seq) VALUES (?, ?)
       ON CONFLICT (name) DO UPDATE SET seq = ${s.dialect.greatest('relay_checkpoints.seq', 'excluded.seq')}`,
      [name, seq],
    );
  }
}
