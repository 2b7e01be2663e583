import { randomBytes } from 'node:crypto';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { openDatabase } from '../support/data-dir';
import { useTestApp } from '../support/test-app';

const VALUES: Record<string, string> = {
  TAMPERED_CIPHERTEXT: `integrity-ct-${randomBytes(8).toString('hex')}`,
  TAMPERED_DATA_KEY: `integrity-dk-${randomBytes(8).toString('hex')}`,
  INTACT: `integrity-ok-${randomBytes(8).toString('hex')}`,
};
const KEYS = ['TAMPERED_CIPHERTEXT', 'TAMPERED_DATA_KEY', 'INTACT', 'NEVER_STORED'];

/** Flips one byte of a blob in the file, as a damaged disk or an attacker with the file would. */
function flipLastByte(blob: Buffer): Buffer {
  const copy = Buffer.from(blob);
  copy[copy.length - 1] ^= 0x01;
  return copy;
}

/**
 * Tampers behind the service's back, on its own file: the log refuses UPDATE by trigger, so this
 * test drops the trigger for one statement and puts it back, which only someone with the file
 * can do; data_keys is outside the chain and takes an UPDATE as it is.
 */
function tamper(path: string): void {
  const db = openDatabase(path);
  try {
    const valueEvent = (key: string) =>
      (db.prepare('SELECT value_event_id AS id FROM secrets WHERE key = ?').get(key) as { id: string }).id;
    const trigger = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'events_refuse_update'").get() as { sql: string };
    const ciphertextEvent = valueEvent('TAMPERED_CIPHERTEXT');
    const { ciphertext } = db.prepare('SELECT ciphertext FROM events WHERE id = ?').get(ciphertextEvent) as { ciphertext: Buffer };
    db.transaction(() => {
      db.exec('DROP TRIGGER events_refuse_update');
      db.prepare('UPDATE events SET ciphertext = ? WHERE id = ?').run(flipLastByte(ciphertext), ciphertextEvent);
      db.exec(trigger.sql);
    })();
    const dataKeyEvent = valueEvent('TAMPERED_DATA_KEY');
    const { wrapped } = db.prepare('SELECT wrapped FROM data_keys WHERE event_id = ?').get(dataKeyEvent) as { wrapped: Buffer };
    db.prepare('UPDATE data_keys SET wrapped = ? WHERE event_id = ?').run(flipLastByte(wrapped), dataKeyEvent);
  } finally {
    db.close();
  }
}

describe('a stored value whose ciphertext or wrapped data key was altered', () => {
  const t = useTestApp();
  let executor: string;
  const resolve = () => t.request('/api/v1/resolve', { method: 'POST', token: executor, json: { plugin: 'p', keys: KEYS } });
  const unreadableEvents = () => {
    const db = openDatabase(t.config.databasePath);
    try {
      return (db.prepare("SELECT data FROM events WHERE type = 'SecretUnreadable' ORDER BY seq").all() as { data: string }[]).map((row) => JSON.parse(row.data));
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    executor = (await t.app.get(TokensService).issue({ name: 'runner', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
    for (const [key, value] of Object.entries(VALUES)) {
      expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key, value } })).status).toBe(201);
    }
    // Before any resolve: nothing of these values is in the service's cache of opened values.
    tamper(t.config.databasePath);
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
    const events = unreadableEvents();
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
