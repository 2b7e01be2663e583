import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { residentBytes, runCli, startServe, stop } from '../support/cli';
import { openDatabase } from '../support/data-dir';
import { seedAuditEvents } from '../support/ledger-load';
import { ADMIN_TOKEN, startTestApp, tempDataDir, testConfig } from '../support/test-app';

const EVENTS = 200_000;
const MAX_RSS_GROWTH = 100 * 1024 * 1024;

/**
 * 200k events exported over HTTP by a `serve` process whose resident memory is sampled from
 * /proc meanwhile. The export reads the next page from the database only when the client has
 * taken the previous one, so memory stays flat instead of growing with the log (the NDJSON is
 * ~60 MB; its entries as objects several times that).
 */
describe('audit export of 200k events', () => {
  const data = tempDataDir();
  const masterKeys = `mem-1:${randomBytes(32).toString('base64')}`;
  const config = testConfig(data.dir, { masterKeys: [{ kid: 'mem-1', key: Buffer.from(masterKeys.slice(6), 'base64') }] });
  let total: number;

  beforeAll(async () => {
    const t = await startTestApp(config);
    await seedAuditEvents(t.app, EVENTS);
    await t.close();
    // Counted once the app has stopped: its checkpoint duty may append one more after seeding.
    const db = openDatabase(config.databasePath);
    total = (db.prepare('SELECT MAX(seq) AS seq FROM events').get() as { seq: number }).seq;
    db.close();
    // Seeding 200k events takes ~15 s alone and several times that on a loaded machine.
  }, 180_000);
  afterAll(() => data.cleanup());

  it('streams NDJSON over HTTP with flat memory and every event once', async () => {
    // No checkpoint of the service's own joins the log while the test counts it: one appended
    // during the start-up verification made `verifiedSeq` pass `total` and the wait below never end.
    const server = await startServe({
      SECRETS_DATA_DIR: data.dir,
      SECRETS_MASTER_KEYS: masterKeys,
      SECRETS_ADMIN_TOKEN: ADMIN_TOKEN,
      SECRETS_CHECKPOINT_EVENTS: String(10 * EVENTS),
      SECRETS_CHECKPOINT_INTERVAL_MS: String(24 * 3_600_000),
    });
    const pid = server.child.pid!;
    try {
      const get = (path: string) => fetch(server.url + path, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      // Let the start-up chain verification finish first: it is not the export's memory.
      for (;;) {
        const ready = await (await get('/health/ready')).json();
        if (ready.info?.auditChain?.verifiedSeq === total) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const baseline = residentBytes(pid);
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, residentBytes(pid))), 20);

      const res = await get('/api/v1/audit/export?format=ndjson');
      expect(res.status).toBe(200);
      let lines = 0;
      let tail = 0;
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const byte of value) if (byte === 0x0a) lines += 1;
        tail = value[value.length - 1];
      }
      clearInterval(sampler);
      peak = Math.max(peak, residentBytes(pid));

      expect(tail).toBe(0x0a);
      expect(lines).toBe(total);
      expect(peak - baseline).toBeLessThan(MAX_RSS_GROWTH);
    } finally {
      await stop(server.child);
    }
    // A guard, not a target: the start-up verification of 200k events and a 60 MB export take
    // about 30 s in CI.
  }, 120_000);

  it('the CLI exports the same count as CSV from the file', () => {
    const out = join(data.dir, 'audit.csv');
    const run = runCli(['audit', 'export', '--format', 'csv', '--db', config.databasePath, '--out', out]);
    expect(run.status).toBe(0);
    // One line per event: nothing in this trail holds a newline.
    expect(readFileSync(out, 'utf8').trimEnd().split('\n')).toHaveLength(total + 1);
  }, 60_000);
});
