import { randomBytes } from 'node:crypto';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { ChangeReader, openChangeReader } from '../support/change-reader';
import { expectEventually } from '../support/expect-eventually';
import { FreshDatabase, freshDatabase } from '../support/postgres';
import { ADMIN_TOKEN, TestApp, startTestApp, tempDataDir, testConfig } from '../support/test-app';

/**
 * SPEC §3 and §8: two instances on one PostgreSQL database and no NATS at all (each is given an
 * address where none listens). A change written through one reaches a stream held by the other,
 * and a token revoked through one ends its streams on the other, by the commit announcements
 * (LISTEN/NOTIFY) every instance receives.
 */
describe('the change stream across two PostgreSQL instances, with no NATS', () => {
  const dirs = [tempDataDir(), tempDataDir()];
  const masterKeys = [{ kid: 'streams-1', key: randomBytes(32) }];
  let database: FreshDatabase;
  let a: TestApp;
  let b: TestApp;
  const readers: ChangeReader[] = [];

  beforeAll(async () => {
    database = await freshDatabase('stream-instances');
    const config = (dir: string) => testConfig(dir, { databaseUrl: database.url, masterKeys, nats: { url: 'nats://127.0.0.1:1' } });
    a = await startTestApp(config(dirs[0].dir));
    b = await startTestApp(config(dirs[1].dir));
  }, 60_000);
  afterAll(async () => {
    readers.forEach((reader) => reader.close());
    await b?.stop();
    await a?.stop();
    await database?.drop();
    dirs.forEach((dir) => dir.cleanup());
  });

  it('a write through A reaches a stream on B within a second, and B resumes from any revision like A', async () => {
    const onB = await openChangeReader(b.baseUrl, ADMIN_TOKEN);
    readers.push(onB);
    expect((await a.request('/api/v1/secrets', { method: 'POST', json: { key: 'ACROSS_ONE', value: 'across-value-1' } })).status).toBe(201);
    const acknowledged = Date.now();
    await expectEventually(() => expect(onB.changes().map((c) => c.key)).toEqual(['ACROSS_ONE']), 1_000);
    expect(Date.now() - acknowledged).toBeLessThan(1_000);
    // Both instances' writes, interleaved, on a stream from the beginning held by either: one order.
    for (let i = 0; i < 6; i++) {
      expect((await [a, b][i % 2].request('/api/v1/secrets', { method: 'POST', json: { key: `ACROSS_${i}`, value: `across-${i}` } })).status).toBe(201);
    }
    for (const service of [a, b]) {
      const fromStart = await openChangeReader(service.baseUrl, ADMIN_TOKEN, { query: 'after=0' });
      readers.push(fromStart);
      await expectEventually(() => expect(fromStart.changes().map((c) => c.revision)).toEqual([1, 2, 3, 4, 5, 6, 7]), 2_000);
    }
  });

  it('a token revoked through A ends its stream on B within a second, with event: revoked', async () => {
    const issued = await a.app.get(TokensService).issue({ name: 'across-revoked', role: 'executor', plugins: null }, SYSTEM_ACTOR);
    const onB = await openChangeReader(b.baseUrl, issued.token);
    readers.push(onB);
    expect(onB.status).toBe(200);
    await expectEventually(() => expect(onB.raw().length).toBeGreaterThan(0));
    expect((await a.request(`/api/v1/tokens/${issued.id}`, { method: 'DELETE' })).status).toBe(204);
    const revoked = Date.now();
    await onB.closed;
    expect(Date.now() - revoked).toBeLessThan(1_000);
    expect(onB.events.at(-1)?.event).toBe('revoked');
  });
});
