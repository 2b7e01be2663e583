import type { Database } from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { SQLITE } from '../../src/storage/database.module';
import { openDatabase } from '../support/data-dir';
import { expectEventually } from '../support/expect-eventually';
import { ledgerState } from '../support/ledger-state';
import { TestApp, startTestApp, testConfig } from '../support/test-app';

/**
 * How the test takes space away and gives it back. On a machine that lets it mount, the data dir
 * is a small tmpfs, filled with a file until the kernel says ENOSPC. Where mounting is refused,
 * SQLite itself is made to refuse writes (`query_only`), which reaches the same writer, mapping
 * and readiness code as a real fault.
 */
interface StorageFaults {
  dir: string;
  real: boolean;
  fill(): void;
  free(): void;
  cleanup(): void;
}

/**
 * Read-only is always SQLite's own refusal (SQLITE_READONLY): Linux will not remount a
 * filesystem read-only while a file on it is open for writing, as the database is.
 */
function readOnly(db: Database, on: boolean): void {
  db.pragma(`query_only = ${on ? 'ON' : 'OFF'}`);
}

function tmpfsFaults(): StorageFaults | string {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-ledger-tmpfs-'));
  const mount = (...args: string[]) => spawnSync('mount', args, { encoding: 'utf8' });
  const mounted = mount('-t', 'tmpfs', '-o', 'size=6m,mode=0700', 'tmpfs', dir);
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return (mounted.stderr || mounted.error?.message || `exit ${mounted.status}`).trim();
  }
  const filler = join(dir, 'filler');
  return {
    dir,
    real: true,
    fill: () => {
      // Until the kernel refuses, in small pieces so that no free page is left behind.
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(4096, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        closeSync(fd);
      }
    },
    free: () => unlinkSync(filler),
    cleanup: () => {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function injectedFaults(db: () => Database, dir: string): StorageFaults {
  return {
    dir,
    real: false,
    fill: () => readOnly(db(), true),
    free: () => readOnly(db(), false),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const bigValue = () => `fault-value-${randomBytes(30_000).toString('hex')}`;

describe('storage faults: disk full, read-only', () => {
  let faults: StorageFaults;
  let t: TestApp;
  let executor: string;
  let auditor: string;

  beforeAll(async () => {
    const tmpfs = tmpfsFaults();
    if (typeof tmpfs === 'string') {
      console.warn(`cannot mount a tmpfs here (${tmpfs}): covering storage faults with an injected failing write (SQLite query_only)`);
      faults = injectedFaults(() => t.app.get<Database>(SQLITE), mkdtempSync(join(tmpdir(), 'secrets-ledger-fault-')));
    } else {
      faults = tmpfs;
    }
    t = await startTestApp(testConfig(faults.dir));
    const tokens = t.app.get(TokensService);
    executor = (await tokens.issue({ name: 'runner', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
    auditor = (await tokens.issue({ name: 'reviewer', role: 'auditor', plugins: null }, SYSTEM_ACTOR)).token;
    expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'BEFORE_FAULT', value: 'v-before' } })).status).toBe(201);
  });

  afterAll(async () => {
    await t?.close();
    faults?.cleanup();
  });

  const ready = async () => {
    const res = await t.request('/health/ready', { token: null });
    return { status: res.status, storage: (await res.json()).details.storage };
  };

  /** A refused write: 503 problem+json with Retry-After, naming no part of the body. */
  async function expectUnavailable(res: Response, value: string): Promise<void> {
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ status: 503, type: 'urn:secrets-ledger:problem:storage-unavailable' });
    expect(text).not.toContain(value.slice(0, 40));
  }

  /** Every key the test was told was stored, and none it was refused, in the log and the read model. */
  async function expectNothingPartial(acknowledged: string[], refused: string[]): Promise<void> {
    const state = await ledgerState(t.config.databasePath);
    expect(state.chainOk).toBe(true);
    expect(state.rebuilt).toEqual({ readModel: state.readModel, revision: state.revision });
    expect(state.rebuiltConsumers).toEqual(state.consumers);
    const keys = state.readModel.map((s) => s.key);
    for (const key of acknowledged) expect(keys).toContain(key);
    for (const key of refused) expect(keys).not.toContain(key);
    const db = openDatabase(t.config.databasePath);
    try {
      const streams = (db.prepare('SELECT DISTINCT stream FROM events').all() as { stream: string }[]).map((r) => r.stream);
      for (const key of refused) expect(streams).not.toContain(`secret-${key}`);
    } finally {
      db.close();
    }
  }

  it('disk full: writes are 503 with Retry-After, refusals stay 403, readiness is 503, nothing partial is stored; all recovers once space returns', async () => {
    faults.fill();
    const acknowledged: string[] = [];
    const refused: string[] = [];
    // The WAL may still have room for a few writes: fill it until the first refusal.
    for (let i = 0; i < 300 && refused.length === 0; i++) {
      const key = `FULL_${i}`;
      const value = bigValue();
      const res = await t.request('/api/v1/secrets', { method: 'POST', json: { key, value } });
      if (res.status === 201) acknowledged.push(key);
      else {
        await expectUnavailable(res, value);
        refused.push(key);
      }
    }
    expect(refused).toHaveLength(1);
    if (faults.real) faults.fill(); // whatever the refused write's rollback gave back

    const value = bigValue();
    await expectUnavailable(await t.request('/api/v1/secrets/BEFORE_FAULT', { method: 'PATCH', json: { value } }), value);
    refused.push('BEFORE_FAULT_PATCHED');
    // A refusal is still a refusal: its AccessDenied record cannot be written, and is counted later.
    expect((await t.request('/api/v1/secrets', { method: 'POST', token: auditor, json: { key: 'NOT_ALLOWED', value: 'x' } })).status).toBe(403);
    expect((await t.request('/api/v1/secrets', { method: 'GET', token: null })).status).toBe(401);
    // Reads need no space.
    expect((await t.request('/api/v1/secrets/BEFORE_FAULT')).status).toBe(200);

    const notReady = await ready();
    expect(notReady.status).toBe(503);
    expect(notReady.storage).toMatchObject({ status: 'down' });
    await expectNothingPartial(['BEFORE_FAULT', ...acknowledged], refused.filter((key) => key.startsWith('FULL_')));

    faults.free();
    await expectEventually(async () => expect(await ready()).toEqual({ status: 200, storage: expect.anything() }), 15_000);
    expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key: refused[0], value: bigValue() } })).status).toBe(201);
    const resolved = await t.request('/api/v1/resolve', { method: 'POST', token: executor, json: { plugin: 'p', keys: ['BEFORE_FAULT'] } });
    expect((await resolved.json()).secrets).toEqual({ BEFORE_FAULT: 'v-before' });
    await expectNothingPartial(['BEFORE_FAULT', ...acknowledged, refused[0]], []);
  });

  it('read-only: writes and resolves are 503, readiness is 503; all recovers once it is writable again', async () => {
    readOnly(t.app.get<Database>(SQLITE), true);
    const value = bigValue();
    await expectUnavailable(await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'READ_ONLY_KEY', value } }), value);
    // A resolve is audited before it answers: with no durable record there is no answer.
    const resolve = await t.request('/api/v1/resolve', { method: 'POST', token: executor, json: { plugin: 'p', keys: ['BEFORE_FAULT'] } });
    await expectUnavailable(resolve, 'v-before');
    expect((await t.request('/api/v1/tokens', { method: 'POST', token: auditor, json: { name: 'n', role: 'admin' } })).status).toBe(403);
    expect((await ready()).status).toBe(503);

    readOnly(t.app.get<Database>(SQLITE), false);
    await expectEventually(async () => expect((await ready()).status).toBe(200), 15_000);
    expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'READ_ONLY_KEY', value } })).status).toBe(201);
    await expectNothingPartial(['BEFORE_FAULT', 'READ_ONLY_KEY'], []);

    // The refusals that could not be recorded during the faults are counted in the next one.
    expect((await t.request('/api/v1/tokens', { method: 'GET', token: auditor })).status).toBe(403);
    const denied = await (await t.request('/api/v1/audit?type=AccessDenied')).json();
    const last = denied.items[denied.items.length - 1];
    expect(last.data.suppressed).toBeGreaterThanOrEqual(2);
  });
});
