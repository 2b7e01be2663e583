import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/storage/database.module';
import { MIGRATIONS } from '../../src/storage/migrations';
import { SecretConsumers1764202400000 } from '../../src/storage/migrations/1764202400000-secret-consumers';
import { openPostgres } from '../../src/storage/postgres/open-postgres';
import { POSTGRES_MIGRATIONS } from '../../src/storage/postgres/migrations';
import { PgSecretConsumers1764202400000 } from '../../src/storage/postgres/migrations/1764202400000-secret-consumers';
import { ENGINES } from '../support/engines';
import { freshDatabase } from '../support/postgres';
import { tempDataDir } from '../support/test-app';

const actor = (id: string, name: string) => JSON.stringify({ id, name, role: 'executor' });
const resolved = (plugin: string, keys: [string, number][]) => JSON.stringify({ plugin, keys: keys.map(([key, version]) => ({ key, version })), missing: [], revision: 1 });

/** A log written before `secret_consumers` existed: resolves by two tokens, one of them twice, for two plugins. */
const OLD_LOG: [seq: number, type: string, data: string, actor: string, at: string][] = [
  [1, 'SecretsResolved', resolved('p', [['ALPHA', 1], ['BETA', 1]]), actor('tok_a', 'a'), '2026-01-01T00:00:01.000Z'],
  [2, 'SecretsResolved', resolved('p', [['ALPHA', 1]]), actor('tok_b', 'b'), '2026-01-01T00:00:02.000Z'],
  [3, 'SecretsResolved', resolved('p', [['ALPHA', 2]]), actor('tok_a', 'a'), '2026-01-01T00:00:03.000Z'],
  [4, 'SecretsResolved', resolved('q', [['ALPHA', 2]]), actor('tok_a', 'a'), '2026-01-01T00:00:04.000Z'],
  [5, 'AccessDenied', '{"action":"resolve p"}', actor('tok_c', 'c'), '2026-01-01T00:00:05.000Z'],
];

/** Each consumer's newest read, as the migration must derive it. */
const EXPECTED = [
  ['ALPHA', 'tok_a', 'p', 'a', 2, '2026-01-01T00:00:03.000Z', 3],
  ['ALPHA', 'tok_a', 'q', 'a', 2, '2026-01-01T00:00:04.000Z', 4],
  ['ALPHA', 'tok_b', 'p', 'b', 1, '2026-01-01T00:00:02.000Z', 2],
  ['BETA', 'tok_a', 'p', 'a', 1, '2026-01-01T00:00:01.000Z', 1],
];

const CONSUMERS = 'SELECT key, token_id, plugin, token_name, version, resolved_at, seq FROM secret_consumers ORDER BY key, token_id, plugin';
const INSERT = "INSERT INTO events (seq, id, stream, version, type, data, actor, at, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'h', 'h')";

/** The SecretsResolved entries already in a log become its consumers when the table is created. */
describe.each(ENGINES)('migration SecretConsumers on an existing log (%s)', (engine) => {
  it("keeps each token's newest read per key and plugin, with its version, time and seq", async () => {
    const rows = OLD_LOG.map(([seq, type, data, who, at]) => [seq, `e${seq}`, type === 'AccessDenied' ? 'access-denied' : 'resolutions', seq, type, data, who, at]);
    if (engine === 'sqlite') {
      const temp = tempDataDir();
      const path = join(temp.dir, 'secrets.db');
      try {
        const old = await new DataSource({ ...dataSourceOptions(path), migrations: MIGRATIONS.slice(0, MIGRATIONS.indexOf(SecretConsumers1764202400000)) }).initialize();
        for (const row of rows) await old.query(INSERT.replace(/\$\d/g, '?'), row);
        await old.destroy();
        const migrated = await new DataSource(dataSourceOptions(path)).initialize();
        try {
          expect((await migrated.query(CONSUMERS)).map(Object.values)).toEqual(EXPECTED);
        } finally {
          await migrated.destroy();
        }
      } finally {
        temp.cleanup();
      }
      return;
    }
    const database = await freshDatabase('consumers-migration');
    try {
      const before = POSTGRES_MIGRATIONS.slice(0, POSTGRES_MIGRATIONS.indexOf(PgSecretConsumers1764202400000));
      const old = await new DataSource({ type: 'postgres', url: database.url, migrations: before, migrationsRun: true }).initialize();
      for (const row of rows) await old.query(INSERT, row);
      await old.destroy();
      const migrated = await openPostgres(database.url);
      try {
        expect((await migrated.pool.query({ text: CONSUMERS, rowMode: 'array' })).rows).toEqual(EXPECTED);
      } finally {
        await migrated.close();
      }
    } finally {
      await database.drop();
    }
  });
});
