import { Logger } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import { SQLITE } from '../../src/storage/database.module';
import { startTestApp, tempDataDir, testConfig } from '../support/test-app';

/**
 * An error nobody anticipated (here: the database handle gone from under a running service)
 * must not tell the caller what broke: a generic 500 whose error id leads an operator to the
 * log line that holds the cause.
 */
describe('an unexpected error', () => {
  it('answers a generic problem+json 500 with an error id, and logs the cause under that id', async () => {
    const data = tempDataDir();
    const t = await startTestApp(testConfig(data.dir));
    const logged = jest.spyOn(Logger.prototype, 'error');
    try {
      expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'BEFORE_THE_FAULT', value: 'unexpected-v1' } })).status).toBe(201);
      // The writer's connection: reads go through a connection of their own.
      t.app.get<Database>(SQLITE).close();

      const res = await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'AFTER_THE_FAULT', value: 'unexpected-v2' } });
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const body = (await res.json()) as { status: number; detail: string };
      const errorId = /error id ([0-9a-f-]{36})/.exec(body.detail)?.[1];
      expect(body.status).toBe(500);
      expect(errorId).toBeDefined();
      // Nothing of the cause reaches the caller.
      expect(JSON.stringify(body)).not.toMatch(/database|sqlite|connection|stack|\.ts:|unexpected-v2/i);

      const entry = logged.mock.calls.map(([first]) => first as { errorId?: string; err?: unknown }).find((e) => e?.errorId === errorId);
      // `err` is {name, message, stack}, or the error as a string when it comes from another realm
      // (better-sqlite3's native TypeError is not an instance of Jest's sandboxed Error).
      expect(JSON.stringify(entry?.err)).toMatch(/The database connection is not open/);
    } finally {
      logged.mockRestore();
      // The data source cannot close a handle that is already closed; the test is over either way.
      await t.close().catch(() => undefined);
      data.cleanup();
    }
  });
});
