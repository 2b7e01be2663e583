import type Database from 'better-sqlite3';
import type { EventRow } from '../../src/event-store/event';
import { hashRow } from '../../src/event-store/hash-chain';
import { runCli } from '../support/cli';
import { openDatabase } from '../support/data-dir';
import { TestApp, startTestApp, tempDataDir, testConfig } from '../support/test-app';

/**
 * A log changed behind the service's back: someone with the file drops a trigger and edits or
 * deletes a row. verify (HTTP and CLI) names the first broken seq; readiness reports it after a
 * restart; the service keeps serving and repairs nothing.
 */
describe('audit verify catches a log changed behind the service', () => {
  const cleanups: (() => void)[] = [];
  afterAll(() => cleanups.forEach((cleanup) => cleanup()));

  /** A closed data dir with eight events: bootstrap token, then seven secrets added. */
  async function seeded() {
    const data = tempDataDir();
    cleanups.push(data.cleanup);
    const config = testConfig(data.dir);
    const t = await startTestApp(config);
    for (let i = 1; i <= 7; i++) await t.request('/api/v1/secrets', { method: 'POST', json: { key: `KEY_${i}`, value: `value-${i}` } });
    await t.close();
    return config;
  }

  function tamper(path: string, change: (db: Database.Database) => void): void {
    const db = openDatabase(path);
    try {
      change(db);
    } finally {
      db.close();
    }
  }

  async function expectReported(config: ReturnType<typeof testConfig>, brokenAt: number, reason: RegExp) {
    const cli = runCli(['audit', 'verify', '--db', config.databasePath]);
    expect(cli.status).toBe(1);
    expect(cli.stdout).toMatch(new RegExp(`BROKEN at seq ${brokenAt}: `));
    expect(cli.stdout).toMatch(reason);

    const t: TestApp = await startTestApp(config);
    try {
      const verified = await (await t.request('/api/v1/audit/verify')).json();
      expect(verified).toMatchObject({ ok: false, brokenAt, reason: expect.stringMatching(reason) });
      const ready = await t.request('/health/ready', { token: null });
      expect(ready.status).toBe(503);
      expect((await ready.json()).error.auditChain).toMatchObject({ status: 'down', brokenAt });
      // Still serving, and nothing repaired.
      expect((await t.request('/api/v1/secrets')).status).toBe(200);
      expect((await (await t.request('/api/v1/audit/verify')).json()).brokenAt).toBe(brokenAt);
    } finally {
      await t.close();
    }
  }

  it('an intact log verifies on the CLI (exit 0)', async () => {
    const config = await seeded();
    const cli = runCli(['audit', 'verify', '--db', config.databasePath]);
    expect(cli.status).toBe(0);
    expect(cli.stdout).toMatch(/^ok: 8 events checked; head seq 8 hash [0-9a-f]{64}/);
  });

  it('an edited row: broken at that seq', async () => {
    const config = await seeded();
    tamper(config.databasePath, (db) => {
      db.exec('DROP TRIGGER events_refuse_update');
      db.prepare(`UPDATE events SET data = json_set(data, '$.description', 'forged') WHERE seq = 5`).run();
    });
    await expectReported(config, 5, /edited row/);
  });

  it('a deleted row: broken at the missing seq', async () => {
    const config = await seeded();
    tamper(config.databasePath, (db) => {
      db.exec('DROP TRIGGER events_refuse_delete');
      db.pragma('foreign_keys = OFF');
      db.prepare('DELETE FROM events WHERE seq = 3').run();
    });
    await expectReported(config, 3, /seq 3 is missing/);
  });

  it('an edited row whose hash was recomputed: broken at the next link', async () => {
    const config = await seeded();
    tamper(config.databasePath, (db) => {
      db.exec('DROP TRIGGER events_refuse_update');
      db.prepare(`UPDATE events SET data = json_set(data, '$.description', 'forged') WHERE seq = 4`).run();
      const { hash: _stale, ...forged } = db.prepare('SELECT * FROM events WHERE seq = 4').get() as EventRow;
      db.prepare('UPDATE events SET hash = ? WHERE seq = 4').run(hashRow(forged));
    });
    await expectReported(config, 5, /prevHash of seq 5/);
  });
});
