import { randomBytes } from 'node:crypto';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import type { AppConfig } from '../../src/config/configuration';
import type { SqlSession } from '../../src/storage/sql';
import { RawDatabase, withRawDatabase } from '../support/raw-database';
import { useTestApp } from '../support/test-app';

const VALUES: Record<string, string> = {
  TAMPERED_CIPHERTEXT: `integrity-ct-${randomBytes(8).toString('hex')}`,
  TAMPERED_DATA_KEY: `integrity-dk-${randomBytes(8).toString('hex')}`,
  INTACT: `integrity-ok-${randomBytes(8).toString('hex')}`,
};
const KEYS = ['TAMPERED_CIPHERTEXT', 'TAMPERED_DATA_KEY', 'INTACT', 'NEVER_STORED'];

/** Flips one byte of a blob in the database, as a damaged disk or an attacker with the database would. */
function flipLastByte(blob: Buffer): Buffer {
  const copy = Buffer.from(blob);
  copy[copy.length - 1] ^= 0x01;
  return copy;
}

/**
 * Lets `work` UPDATE the log, which refuses it by trigger, and puts the guard back: only someone
 * who owns the database (its file, or the tables) can do this. In `tx`, so nothing else sees the gap.
 */
async function withoutUpdateGuard(db: RawDatabase, tx: SqlSession, work: () => Promise<void>): Promise<void> {
  if (db.engine === 'postgres') {
    await tx.run('ALTER TABLE events DISABLE TRIGGER events_refuse_update');
    await work();
    await tx.run('ALTER TABLE events ENABLE TRIGGER events_refuse_update');
    return;
  }
  const trigger = await tx.get<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'events_refuse_update'");
  await tx.run('DROP TRIGGER events_refuse_update');
  await work();
  await tx.run(trigger!.sql);
}

/**
 * Tampers behind the service's back, on its own database, with a connection of its own: one
 * value's ciphertext in the log (past its guard), and another's wrapped data key (data_keys is
 * outside the chain and takes an UPDATE as it is).
 */
async function tamper(config: AppConfig): Promise<void> {
  await withRawDatabase(config, async (db) => {
    const valueEvent = async (key: string) => (await db.get<{ id: string }>('SELECT value_event_id AS id FROM secrets WHERE key = ?', [key]))!.id;
    const ciphertextEvent = await valueEvent('TAMPERED_CIPHERTEXT');
    const { ciphertext } = (await db.get<{ ciphertext: Buffer }>('SELECT ciphertext FROM events WHERE id = ?', [ciphertextEvent]))!;
    await db.transaction((tx) =>
      withoutUpdateGuard(db, tx, async () => {
        expect(await tx.run('UPDATE events SET ciphertext = ? WHERE id = ?', [flipLastByte(ciphertext), ciphertextEvent])).toBe(1);
      }),
    );
    // The guard is back: the log refuses an UPDATE again.
    await expect(db.run('UPDATE events SET ciphertext = ? WHERE id = ?', [ciphertext, ciphertextEvent])).rejects.toThrow(/append-only: UPDATE refused/);
    const dataKeyEvent = await valueEvent('TAMPERED_DATA_KEY');
    const { wrapped } = (await db.get<{ wrapped: Buffer }>('SELECT wrapped FROM data_keys WHERE event_id = ?', [dataKeyEvent]))!;
    expect(await db.run('UPDATE data_keys SET wrapped = ? WHERE event_id = ?', [flipLastByte(wrapped), dataKeyEvent])).toBe(1);
  });
}

describe('a stored value whose ciphertext or wrapped data key was altered', () => {
  const t = useTestApp();
  let executor: string;
  const resolve = () => t.request('/api/v1/resolve', { method: 'POST', token: executor, json: { plugin: 'p', keys: KEYS } });
  const unreadableEvents = async () =>
    (await withRawDatabase(t.config, (db) => db.all<{ data: string }>("SELECT data FROM events WHERE type = 'SecretUnreadable' ORDER BY seq"))).map((row) => JSON.parse(row.data));

  beforeAll(async () => {
    executor = (await t.app.get(TokensService).issue({ name: 'runner', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
    for (const [key, value] of Object.entries(VALUES)) {
      expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key, value } })).status).toBe(201);
    }
    // Before any resolve: nothing of these values is in the service's cache of opened values.
    await tamper(t.config);
  });

  it('is listed in `unreadable`, never returned or guessed, while the other keys resolve', async () => {
    const res = await resolve();
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      secrets: { INTACT: VALUES.INTACT },
      missing: ['NEVER_STORED'],
      unreadable: ['TAMPERED_CIPHERTEXT', 'TAMPERED_DATA_KEY'],
      revision: 3,
    });
    // Positive control: the search finds the value that was returned.
    expect(text).toContain(VALUES.INTACT);
    expect(text).not.toContain(VALUES.TAMPERED_CIPHERTEXT);
    expect(text).not.toContain(VALUES.TAMPERED_DATA_KEY);
  });

  it('is recorded as SecretUnreadable {key, version, reason} once, however often it is asked for', async () => {
    for (let i = 0; i < 5; i++) expect((await resolve()).status).toBe(200);
    const events = await unreadableEvents();
    expect(events).toEqual([
      { key: 'TAMPERED_CIPHERTEXT', version: 1, reason: expect.stringMatching(/^the ciphertext does not open/) },
      { key: 'TAMPERED_DATA_KEY', version: 1, reason: expect.stringMatching(/^the data key does not open/) },
    ]);
    const trail = await (await t.request('/api/v1/audit?key=TAMPERED_DATA_KEY&type=SecretUnreadable')).json();
    expect(trail.items).toHaveLength(1);
  });

  it('turns /health/ready down, naming each unreadable key and version', async () => {
    const res = await t.request('/health/ready', { token: null });
    expect(res.status).toBe(503);
    const { details } = await res.json();
    expect(details.valueIntegrity.status).toBe('down');
    expect(details.valueIntegrity.unreadable.map((u: { key: string; version: number }) => `${u.key}@${u.version}`)).toEqual([
      'TAMPERED_CIPHERTEXT@1',
      'TAMPERED_DATA_KEY@1',
    ]);
    expect(details.storage.status).toBe('up');
  });

  it('becomes readable again with a new version, the only repair there is', async () => {
    const fresh = `integrity-new-${randomBytes(8).toString('hex')}`;
    expect((await t.request('/api/v1/secrets/TAMPERED_DATA_KEY', { method: 'PATCH', json: { value: fresh } })).status).toBe(200);
    const body = await (await resolve()).json();
    expect(body.secrets).toEqual({ INTACT: VALUES.INTACT, TAMPERED_DATA_KEY: fresh });
    expect(body.unreadable).toEqual(['TAMPERED_CIPHERTEXT']);
  });
});
