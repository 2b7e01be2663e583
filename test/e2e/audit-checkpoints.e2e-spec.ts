import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEntry } from '../../src/contract/api-types';
import { SignedCheckpoint, checkpointLine, signatureHolds, signedMessage } from '../../src/checkpoints/checkpoint';
import { keyIdOf } from '../../src/checkpoints/signing-key';
import type { AppConfig } from '../../src/config/configuration';
import type { EventRow } from '../../src/event-store/event';
import { hashRow } from '../../src/event-store/hash-chain';
import { StoredEventType } from '../../src/event-store/stored-event-types';
import { runCliToEnd } from '../support/cli';
import { expectEventually } from '../support/expect-eventually';
import { freshDatabase } from '../support/postgres';
import { withRawDatabase } from '../support/raw-database';
import { ADMIN_TOKEN, useTestApp } from '../support/test-app';

/**
 * Signed checkpoints, and what they show that the chain alone cannot: a log cut short at its
 * end, or rewritten from some row on with every later hash recomputed, verifies as a chain; held
 * against checkpoints kept elsewhere it does not. The tampering is done on copies of the app's
 * database, with the guard triggers dropped, as an attacker with the database would.
 */
/** A PEM's base64 body, which a JSON body carries (no line breaks). */
const pemBody = (pem: string) => pem.replace(/-----[^-]+-----|\s/g, '');

describe('audit checkpoints', () => {
  const t = useTestApp({ checkpoints: { signingKeyFile: undefined, everyEvents: 3, intervalMs: 1_500, sink: undefined } });
  let checkpoints: SignedCheckpoint[];
  let publicKeyPem: string;
  let checkpointsFile: string;
  let publicKeyFile: string;

  const trail = async (): Promise<AuditEntry[]> => (await (await t.request('/api/v1/audit?limit=1000')).json()).items;
  const listed = async (after = 0): Promise<SignedCheckpoint[]> => (await (await t.request(`/api/v1/audit/checkpoints?after=${after}`)).json()).items;

  beforeAll(async () => {
    await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'CVAT_URL', value: 'https://cvat.example' } });
    const executor = await (await t.request('/api/v1/tokens', { method: 'POST', json: { name: 'runner', role: 'executor' } })).json();
    // The newest events are resolves: no table outside the chain follows them, so a log cut
    // short there still agrees with its read model, and only the checkpoints can tell.
    const resolve = () => t.request('/api/v1/resolve', { method: 'POST', token: executor.token, json: { plugin: 'p', keys: ['CVAT_URL'] } });
    for (const batch of [3, 5]) {
      for (let i = 0; i < batch; i++) await resolve();
      // Every event covered: the newest event is a checkpoint of the one before it.
      await expectEventually(async () => {
        const entries = await trail();
        expect(entries[entries.length - 1].type).toBe(StoredEventType.AuditCheckpoint);
      }, 15_000, 200);
    }
    checkpoints = await listed();
    publicKeyPem = await (await t.request('/api/v1/audit/signing-key')).text();
    checkpointsFile = join(t.dir, 'checkpoints.jsonl');
    publicKeyFile = join(t.dir, 'signing-key.pub.pem');
    writeFileSync(checkpointsFile, checkpoints.map(checkpointLine).join(''));
    writeFileSync(publicKeyFile, publicKeyPem);
  });

  it('appends a signed AuditCheckpoint of the head every few events, each right after the event it covers', async () => {
    const entries = await trail();
    const bySeq = new Map(entries.map((entry) => [entry.seq, entry]));
    const logged = entries.filter((entry) => entry.type === StoredEventType.AuditCheckpoint);
    expect(logged.length).toBeGreaterThanOrEqual(2);
    expect(checkpoints).toEqual(logged.map((entry) => entry.data));
    const publicKey = createPublicKey(publicKeyPem);
    checkpoints.forEach((checkpoint, i) => {
      expect(signatureHolds(checkpoint, publicKey)).toBe(true);
      expect(checkpoint.keyId).toBe(keyIdOf(publicKey));
      expect(checkpoint.hash).toBe(bySeq.get(checkpoint.seq)!.hash);
      expect(bySeq.get(checkpoint.seq + 1)!.type).toBe(StoredEventType.AuditCheckpoint);
      expect(checkpoint.previous).toBe(i === 0 ? 0 : checkpoints[i - 1].seq);
    });
    // Not a change of any secret: no key, no version, and the system wrote it.
    expect(logged[0]).toMatchObject({ actor: { id: 'system' } });
    expect(logged[0]).not.toHaveProperty('key');
    expect(publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
  });

  it('lists the checkpoints after a seq, a page at a time; bad paging is a 400', async () => {
    expect(await listed(checkpoints[0].seq)).toEqual(checkpoints.slice(1));
    const page = await (await t.request('/api/v1/audit/checkpoints?limit=1')).json();
    expect(page).toEqual({ items: [checkpoints[0]], next: checkpoints[0].seq });
    for (const query of ['after=-1', 'limit=0', 'after=x', 'cursor=1']) {
      const response = await t.request(`/api/v1/audit/checkpoints?${query}`);
      expect([query, response.status]).toEqual([query, 400]);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
  });

  it('the API verifies the intact log against uploaded checkpoints, and names a forged one', async () => {
    const verify = async (body: object) => t.request('/api/v1/audit/verify', { method: 'POST', json: body });
    const intact = await (await verify({ checkpoints })).json();
    expect(intact).toMatchObject({ ok: true, checkpoints: { checked: checkpoints.length, problems: [] } });

    // The newest checkpoint's claim, signed by another key.
    const { privateKey } = generateKeyPairSync('ed25519');
    const newest = checkpoints[checkpoints.length - 1];
    const forged = { ...newest, signature: sign(null, signedMessage(newest), privateKey).toString('base64') };
    const result = await (await verify({ checkpoints: [...checkpoints.slice(0, -1), forged], publicKey: pemBody(publicKeyPem) })).json();
    expect(result.ok).toBe(false);
    expect(result.checkpoints.problems).toEqual([{ seq: newest.seq, kind: 'forged', reason: expect.stringMatching(/does not verify/) }]);

    // The CLI through the API says the same, in words.
    const forgedFile = join(t.dir, 'forged.jsonl');
    writeFileSync(forgedFile, [...checkpoints.slice(0, -1), forged].map(checkpointLine).join(''));
    const run = await runCliToEnd(['audit', 'verify', '--source', 'api', '--checkpoints', forgedFile, '--public-key', publicKeyFile], { SECRETS_URL: t.baseUrl, SECRETS_TOKEN: ADMIN_TOKEN });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`^  - FORGED at seq ${newest.seq}: the signature of the checkpoint at seq ${newest.seq} does not verify`, 'm'));

    const unreadable = await verify({ checkpoints: [{ seq: 'one' }] });
    expect(unreadable.status).toBe(400);
    expect((await unreadable.json()).errors).toEqual([{ field: 'checkpoints', message: 'item 1 is not a checkpoint (seq, hash, at, previous, keyId, signature)' }]);
  });

  describe('on copies of the log, tampered with', () => {
    beforeAll(async () => {
      // Nobody may be connected to a PostgreSQL database that is copied.
      await t.stop();
    });

    /** A copy of the app's database, tampered with by `change` on a connection of its own; the CLI's flags to read it. */
    async function tamperedCopy(change: (db: Parameters<Parameters<typeof withRawDatabase>[1]>[0]) => Promise<void>): Promise<{ args: string[]; env: NodeJS.ProcessEnv }> {
      let copy: AppConfig;
      let source: { args: string[]; env: NodeJS.ProcessEnv };
      if (t.engine === 'sqlite') {
        const path = join(t.dir, `copy-${Date.now()}.db`);
        await withRawDatabase(t.config, (db) => db.run(`VACUUM INTO '${path}'`));
        copy = { ...t.config, databasePath: path };
        source = { args: ['--source', 'file', '--db', path], env: {} };
      } else {
        const database = await freshDatabase('checkpoints_copy', { copyOf: new URL(t.config.databaseUrl!).pathname.slice(1) });
        copies.push(database.drop);
        copy = { ...t.config, databaseUrl: database.url };
        source = { args: ['--source', 'postgres'], env: { DATABASE_URL: database.url } };
      }
      await withRawDatabase(copy, change);
      return source;
    }
    const copies: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const drop of copies) await drop();
    });

    const verify = (source: { args: string[]; env: NodeJS.ProcessEnv }, withCheckpoints: boolean) =>
      runCliToEnd(['audit', 'verify', ...source.args, '--json', ...(withCheckpoints ? ['--checkpoints', checkpointsFile, '--public-key', publicKeyFile] : [])], source.env);

    const dropTrigger = (engine: string, trigger: string) => (engine === 'sqlite' ? `DROP TRIGGER ${trigger}` : `DROP TRIGGER ${trigger} ON events`);

    it('a log whose newest events were deleted verifies as a chain, and is reported truncated against the checkpoints', async () => {
      const newest = checkpoints[checkpoints.length - 1];
      const source = await tamperedCopy(async (db) => {
        await db.run(dropTrigger(db.engine, 'events_refuse_delete'));
        await db.run('DELETE FROM events WHERE seq > ?', [newest.seq - 2]);
      });
      const chainOnly = await verify(source, false);
      expect(JSON.parse(chainOnly.stdout)).toMatchObject({ ok: true });

      const run = await verify(source, true);
      expect(run.status).toBe(1);
      const result = JSON.parse(run.stdout);
      expect(result).toMatchObject({ ok: false, head: { seq: newest.seq - 2 } });
      expect(result.checkpoints.problems).toEqual([
        { seq: newest.seq, kind: 'truncated', reason: `the log ends at seq ${newest.seq - 2}, before the checkpoint at seq ${newest.seq}: events were removed from its end` },
      ]);
    });

    it('a row rewritten in the middle, every later hash recomputed, is reported rewritten at each checkpoint after it', async () => {
      const resolves = (await withRawDatabase(t.config, (db) => db.all<{ seq: number }>('SELECT seq FROM events WHERE type = ? ORDER BY seq', [StoredEventType.SecretsResolved])));
      const target = resolves[1].seq;
      const source = await tamperedCopy(async (db) => {
        await db.run(dropTrigger(db.engine, 'events_refuse_update'));
        const rows = await db.all<EventRow>('SELECT * FROM events WHERE seq >= ? ORDER BY seq', [target]);
        let prevHash = rows[0].prev_hash;
        for (const row of rows) {
          const data = row.seq === target ? row.data.replace('"plugin":"p"', '"plugin":"q"') : row.data;
          const rewritten = { ...row, data, prev_hash: prevHash };
          const hash = hashRow(rewritten);
          await db.run('UPDATE events SET data = ?, prev_hash = ?, hash = ? WHERE seq = ?', [data, prevHash, hash, row.seq]);
          prevHash = hash;
        }
      });
      const chainOnly = await verify(source, false);
      expect(JSON.parse(chainOnly.stdout)).toMatchObject({ ok: true });

      const run = await verify(source, true);
      expect(run.status).toBe(1);
      const later = checkpoints.filter((checkpoint) => checkpoint.seq >= target);
      expect(later.length).toBeGreaterThan(0);
      expect(JSON.parse(run.stdout).checkpoints.problems).toEqual(later.map((checkpoint) => expect.objectContaining({ seq: checkpoint.seq, kind: 'rewritten' })));
    });

    it('the intact log verifies against the checkpoints through the CLI (the control)', async () => {
      const source = await tamperedCopy(async () => undefined);
      const run = await verify(source, true);
      expect(run.stderr).not.toMatch(/error/i);
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, checkpoints: { checked: checkpoints.length, problems: [] } });
    });
  });
});
