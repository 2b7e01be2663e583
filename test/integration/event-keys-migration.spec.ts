import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions, rawConnection } from '../../src/storage/database.module';
import { MIGRATIONS } from '../../src/storage/migrations';
import { EventKeys1764201900000 } from '../../src/storage/migrations/1764201900000-event-keys';
import { tempDataDir } from '../support/test-app';

/** A log written before `event_keys` existed is indexed by key when the migration runs. */
describe('migration EventKeys on an existing log', () => {
  const temp = tempDataDir();
  const path = join(temp.dir, 'secrets.db');
  afterAll(() => temp.cleanup());

  it('indexes each secret event under its key and each resolve under every key it asked for', async () => {
    const before = MIGRATIONS.filter((migration) => migration !== EventKeys1764201900000);
    const old = await new DataSource({ ...dataSourceOptions(path), migrations: before }).initialize();
    const insert = rawConnection(old).prepare(
      `INSERT INTO events (seq, id, stream, version, type, data, actor, at, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, '{"id":"tok_1","name":"n","role":"admin"}', '2026-01-01T00:00:00.000Z', 'h', 'h')`,
    );
    const resolved = (keys: string[], missing: string[]) => JSON.stringify({ plugin: 'p', keys: keys.map((key) => ({ key, version: 1 })), missing, revision: 1 });
    insert.run(1, 'e1', 'token-tok_1', 1, 'TokenIssued', '{"id":"tok_1"}');
    insert.run(2, 'e2', 'secret-ALPHA', 1, 'SecretAdded', '{"key":"ALPHA","description":"","revision":1}');
    insert.run(3, 'e3', 'resolutions', 1, 'SecretsResolved', resolved(['ALPHA'], ['GAMMA']));
    insert.run(4, 'e4', 'secret-BETA', 1, 'SecretAdded', '{"key":"BETA","description":"","revision":2}');
    insert.run(5, 'e5', 'secret-ALPHA', 2, 'SecretRemoved', '{"key":"ALPHA","revision":3}');
    insert.run(6, 'e6', 'resolutions', 2, 'SecretsResolved', resolved(['BETA'], ['ALPHA']));
    await old.destroy();

    const migrated = await new DataSource(dataSourceOptions(path)).initialize();
    try {
      const db = rawConnection(migrated);
      expect(db.prepare('SELECT key, seq FROM event_keys ORDER BY key, seq').raw(true).all()).toEqual([
        ['ALPHA', 2],
        ['ALPHA', 3],
        ['ALPHA', 5],
        ['ALPHA', 6],
        ['BETA', 4],
        ['BETA', 6],
        ['GAMMA', 3],
      ]);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'events_by_stream'").all()).toEqual([]);
      expect(() => db.prepare("DELETE FROM event_keys WHERE key = 'ALPHA'").run()).toThrow(/append-only/);
      expect(() => db.prepare("UPDATE event_keys SET key = 'X'").run()).toThrow(/append-only/);
    } finally {
      await migrated.destroy();
    }
  });
});
