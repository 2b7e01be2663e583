import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { runCli } from '../support/cli';
import { filesContaining } from '../support/data-dir';
import { withRawDatabase } from '../support/raw-database';
import { useTestApp } from '../support/test-app';

const secret = (label: string) => `${label}-${randomBytes(8).toString('hex')}`;
const path = (key: string) => `/api/v1/secrets/${key}`;

/**
 * Rollback without reading and destroying one version (SPEC §3), on the engine the project runs:
 * the admin moves values it never sees, and a destroyed value is gone from the database and from
 * any backup taken afterwards, while the log and its chain stay whole.
 */
describe('rolling back and destroying versions', () => {
  const t = useTestApp();
  let executor: string;
  /** Every body the admin was sent, to search for values it must never have received. */
  const adminSaw: string[] = [];

  const admin = async (url: string, init: Parameters<typeof t.request>[1] = {}) => {
    const res = await t.request(url, init);
    const headers: string[] = [];
    res.headers.forEach((value, name) => headers.push(`${name}: ${value}`));
    adminSaw.push(`${res.status} ${headers.join(' ')} ${await res.clone().text()}`);
    return res;
  };
  const resolve = async (key: string) => {
    const res = await t.request('/api/v1/resolve', { method: 'POST', token: executor, json: { plugin: 'versions-test', keys: [key] } });
    expect(res.status).toBe(200);
    return (await res.json()) as { secrets: Record<string, string>; revision: number };
  };
  /** A key at versions 1, 2, 3, each with its own value. */
  const threeVersions = async (key: string) => {
    const values = [secret(`${key}-v1`), secret(`${key}-v2`), secret(`${key}-v3`)];
    expect((await admin('/api/v1/secrets', { method: 'POST', json: { key, value: values[0] } })).status).toBe(201);
    for (const value of values.slice(1)) expect((await admin(path(key), { method: 'PATCH', json: { value } })).status).toBe(200);
    return values;
  };
  const rollback = (key: string, toVersion: unknown, headers: Record<string, string> = {}) => admin(`${path(key)}/rollback`, { method: 'POST', json: { toVersion }, headers });
  const destroy = (key: string, version: number | string) => admin(`${path(key)}/versions/${version}`, { method: 'DELETE' });

  beforeAll(async () => {
    executor = (await t.app.get(TokensService).issue({ name: 'versions executor', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
  });

  it("rolls back to version 1: executors resolve version 1's value, and no response to the admin carried it", async () => {
    const values = await threeVersions('ROLLED');
    const before = await resolve('ROLLED');
    const res = await rollback('ROLLED', 1, { 'if-match': '"3"' });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"4"');
    const body = await res.json();
    expect(body).toMatchObject({ key: 'ROLLED', version: 4, updatedBy: expect.any(String) });
    expect(Object.keys(body).sort()).toEqual(['createdAt', 'createdBy', 'description', 'key', 'updatedAt', 'updatedBy', 'version']);

    const after = await resolve('ROLLED');
    expect(after.secrets.ROLLED).toBe(values[0]);
    // A change like any other: the store-wide revision counts it.
    expect(after.revision).toBe(before.revision + 1);
    const history = (await (await admin(`${path('ROLLED')}/history`)).json()).items;
    expect(history.at(-1)).toMatchObject({ version: 4, type: 'SecretRolledBack', toVersion: 1 });
    const trail = (await (await admin('/api/v1/audit?key=ROLLED')).json()).items as { type: string; data: object }[];
    expect(trail.find((entry) => entry.type === 'SecretRolledBack')?.data).toMatchObject({ key: 'ROLLED', version: 4, toVersion: 1 });

    // The search would find the value where it is (the executor's answer), and finds it in no admin response.
    expect(JSON.stringify(after).includes(values[0])).toBe(true);
    expect(adminSaw.filter((text) => text.includes(values[0]))).toEqual([]);
    // Sealed again under a fresh data key: version 4 has a data key of its own.
    const keys = await withRawDatabase(t.config, (db) =>
      db.all<{ version: number; wrapped: Buffer }>("SELECT e.version, k.wrapped FROM events e JOIN data_keys k ON k.event_id = e.id WHERE e.stream = 'secret-ROLLED' ORDER BY e.version"),
    );
    expect(keys.map((k) => k.version)).toEqual([1, 2, 3, 4]);
    expect(keys[3].wrapped.equals(keys[0].wrapped)).toBe(false);
  });

  it('refuses the current version, a removal and a stale If-Match, and answers 404 for an unknown version or key', async () => {
    await threeVersions('REFUSED');
    expect((await rollback('REFUSED', 3)).status).toBe(409);
    expect((await rollback('REFUSED', 9)).status).toBe(404);
    expect((await rollback('NEVER_ADDED', 1)).status).toBe(404);
    expect((await rollback('REFUSED', 1, { 'if-match': '"2"' })).status).toBe(412);
    for (const bad of [0, '1', 1.5, null]) expect((await rollback('REFUSED', bad)).status).toBe(400);
    expect((await admin(path('REFUSED'), { method: 'DELETE' })).status).toBe(204);
    expect((await admin('/api/v1/secrets', { method: 'POST', json: { key: 'REFUSED', value: secret('again') } })).status).toBe(201);
    const removal = await rollback('REFUSED', 4);
    expect(removal.status).toBe(409);
    expect((await removal.json()).detail).toMatch(/removed it/);
    expect((await destroy('REFUSED', 5)).status).toBe(409);
    expect((await destroy('REFUSED', 'one')).status).toBe(400);
    expect((await destroy('NEVER_ADDED', 1)).status).toBe(404);
    expect((await destroy('REFUSED', 9)).status).toBe(404);
  });

  it('destroys version 1: its data key is gone from the database and a later backup, the chain verifies, and every other version still resolves', async () => {
    const values = await threeVersions('SHREDDED');
    const dataKeyOf = (version: number) =>
      withRawDatabase(t.config, (db) =>
        db.get<{ id: string; wrapped: Buffer }>('SELECT e.id, k.wrapped FROM events e JOIN data_keys k ON k.event_id = e.id WHERE e.stream = ? AND e.version = ?', [
          'secret-SHREDDED',
          version,
        ]),
      );
    const wrapped = (await dataKeyOf(1))!.wrapped;
    const beforeBackup = await backup('before');
    try {
      // Control: the search finds the wrapped key in a backup that holds it.
      expect(beforeBackup.holds(wrapped)).toBe(true);
    } finally {
      beforeBackup.remove();
    }

    expect((await destroy('SHREDDED', 3)).status).toBe(409);
    const res = await destroy('SHREDDED', 1);
    expect(res.status).toBe(204);
    expect(await dataKeyOf(1)).toBeUndefined();
    expect(await dataKeyOf(2)).toBeDefined();

    const afterBackup = await backup('after');
    try {
      expect(afterBackup.holds(wrapped)).toBe(false);
      expect(afterBackup.verify()).toMatch(/^ok: /);
    } finally {
      afterBackup.remove();
    }
    // The log is untouched: version 1's ciphertext is still in its row, under the chain.
    const ciphertext = await withRawDatabase(t.config, (db) => db.get<{ c: Buffer | null }>("SELECT ciphertext AS c FROM events WHERE stream = 'secret-SHREDDED' AND version = 1"));
    expect(ciphertext?.c).not.toBeNull();
    expect(await (await admin('/api/v1/audit/verify')).json()).toMatchObject({ ok: true, disagreements: [] });

    expect((await rollback('SHREDDED', 1)).status).toBe(409);
    expect((await destroy('SHREDDED', 1)).status).toBe(204);
    expect((await resolve('SHREDDED')).secrets.SHREDDED).toBe(values[2]);
    expect((await rollback('SHREDDED', 2)).status).toBe(200);
    expect((await resolve('SHREDDED')).secrets.SHREDDED).toBe(values[1]);
    expect((await rollback('SHREDDED', 3)).status).toBe(200);
    expect((await resolve('SHREDDED')).secrets.SHREDDED).toBe(values[2]);

    const history = (await (await admin(`${path('SHREDDED')}/history`)).json()).items as { version: number; destroyed?: object }[];
    expect(history.map((entry) => [entry.version, entry.destroyed !== undefined])).toEqual([
      [1, true],
      [2, false],
      [3, false],
      [4, false],
      [5, false],
    ]);
    expect(history[0].destroyed).toEqual({ at: expect.any(String), by: expect.any(String) });
    // Destroying it twice recorded it once.
    const trail = (await (await admin('/api/v1/audit?key=SHREDDED&type=SecretVersionDestroyed')).json()).items;
    expect(trail).toHaveLength(1);
    expect(trail[0].data).toEqual({ key: 'SHREDDED', version: 1 });
  });

  it('tells a data key deleted behind the log apart from a destroyed one', async () => {
    await threeVersions('ROBBED');
    expect((await destroy('ROBBED', 1)).status).toBe(204);
    await withRawDatabase(t.config, (db) =>
      db.run("DELETE FROM data_keys WHERE event_id = (SELECT id FROM events WHERE stream = 'secret-ROBBED' AND version = 2)"),
    );
    const result = await (await admin('/api/v1/audit/verify')).json();
    expect(result.ok).toBe(false);
    expect(result.disagreements).toEqual([{ table: 'data_keys', key: 'ROBBED', field: 'version 2', reason: expect.stringMatching(/records no destroy/) }]);
  });

  /**
   * A backup as an operator takes one: a copy of the SQLite files, or `pg_dump` of the database.
   * `holds` searches it for bytes (pg_dump writes bytea as hex), `verify` runs `audit verify` on it.
   */
  async function backup(label: string): Promise<{ holds: (bytes: Buffer) => boolean; verify: () => string; remove: () => void }> {
    const dir = mkdtempSync(join(tmpdir(), `secrets-backup-${label}-`));
    const remove = () => rmSync(dir, { recursive: true, force: true });
    if (t.engine === 'sqlite') {
      for (const name of readdirSync(t.dir).filter((name) => name.startsWith('secrets.db'))) copyFileSync(join(t.dir, name), join(dir, name));
      return {
        holds: (bytes) => filesContaining(dir, bytes).length > 0,
        verify: () => runCli(['audit', 'verify', '--db', join(dir, 'secrets.db')]).stdout,
        remove,
      };
    }
    const dump = spawnSync(pgDump(), ['--dbname', t.config.databaseUrl!, '--no-owner'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    if (dump.status !== 0) throw new Error(`pg_dump failed: ${dump.stderr}`);
    return {
      holds: (bytes) => dump.stdout.includes(bytes.toString('hex')),
      verify: () => runCli(['audit', 'verify'], { DATABASE_URL: t.config.databaseUrl! }).stdout,
      remove,
    };
  }
});

/** pg_dump on PATH, else the newest of Debian's versioned installs. */
function pgDump(): string {
  if (spawnSync('pg_dump', ['--version']).status === 0) return 'pg_dump';
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((version) => join(root, version, 'bin/pg_dump')).find((candidate) => existsSync(candidate));
  if (!found) throw new Error('pg_dump is not installed (apt-get install postgresql-client)');
  return found;
}
