import { STORAGE, Storage } from '../../src/storage/sql';
import { openRawDatabase } from '../support/raw-database';
import { useTestApp } from '../support/test-app';

/**
 * Only in the jest project "postgres" (jest.config.js): proof that its setup file's
 * SECRETS_TEST_ENGINE reaches the test files under --runInBand, so that the suites it lists
 * really run on PostgreSQL and not a second time on SQLite.
 */
describe('the postgres project runs its apps on PostgreSQL', () => {
  const t = useTestApp();

  it('gives the app a database of its own and runs its storage on it', async () => {
    expect(process.env.SECRETS_TEST_ENGINE).toBe('postgres');
    expect(t.engine).toBe('postgres');
    expect(t.config.databaseUrl).toMatch(/^postgres:\/\/.+\/sl_test_postgres_engine_[0-9a-f]{10}$/);
    expect(t.app.get<Storage>(STORAGE).dialect.engine).toBe('postgres');
  });

  it('the raw handle sees what the app wrote, in the app\'s database', async () => {
    const db = openRawDatabase(t.config);
    try {
      expect(db.engine).toBe('postgres');
      const before = await db.countRows('events');
      expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'ENGINE_PROBE', value: 'probe-value' } })).status).toBe(201);
      expect(await db.countRows('events')).toBe(before + 1);
      expect(await db.get<{ name: string }>('SELECT current_database() AS name')).toEqual({ name: new URL(t.config.databaseUrl!).pathname.slice(1) });
      // Positive control of the search the secrecy tests rely on: the key name is stored in plaintext, the value is not.
      expect(await db.placesHolding('ENGINE_PROBE')).toEqual(expect.arrayContaining([expect.stringMatching(/^public\.secrets\.key /)]));
      expect(await db.placesHolding('probe-value')).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
