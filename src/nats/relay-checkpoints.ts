import type { Database, Statement } from 'better-sqlite3';

/** The `relay_checkpoints` table: the last `seq` each relay over the log has handed on. */
export class RelayCheckpoints {
  private readonly stmt: {
    get: Statement<[string], { seq: number }>;
    save: Statement<[string, number]>;
  };

  constructor(db: Database) {
    this.stmt = {
      get: db.prepare('SELECT seq FROM relay_checkpoints WHERE name = ?'),
      save: db.prepare(
        'INSERT INTO relay_checkpoints (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = MAX(seq, excluded.seq)',
      ),
    };
  }

  get(name: string): number {
    return this.stmt.get.get(name)?.seq ?? 0;
  }

  /** Writes only inside SqliteWriter.write(). Never moves a checkpoint backwards. */
  save(name: string, seq: number): void {
    this.stmt.save.run(name, seq);
  }
}
