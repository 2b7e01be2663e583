import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { hashToken } from '../../src/auth/token-secret';
import { TokensService } from '../../src/auth/tokens.service';
import { EventStore } from '../../src/event-store/event-store';
import { secretStream } from '../../src/secrets/domain/events';
import { CLI, runCli } from '../support/cli';
import { freePort } from '../support/nats';
import { RawDatabase, withRawDatabase } from '../support/raw-database';
import { ADMIN_TOKEN, TestApp, startTestApp, tempDataDir, testConfig, testEngine } from '../support/test-app';

/**
 * The secrets read model and the tokens table are state outside the hash chain: anyone who can
 * write the database can UPDATE them without a trigger in the way. These tests do, with a
 * connection of their own, and hold the service to what the log says.
 */

const plaintext = (label: string) => `${label}-${randomBytes(8).toString('hex')}`;

/** Every value ever stored, by key, oldest first: a tampered resolve must return none but the key's current one. */
const HISTORY = {
  HISTORY_KEY: [plaintext('history-v1'), plaintext('history-v3')],
  OTHER_KEY: [plaintext('other-v1'), plaintext('other-v2')],
  GONE_KEY: [plaintext('gone-v1')],
  INTACT_KEY: [plaintext('intact-v1')],
};
const ALL_PLAINTEXTS = Object.values(HISTORY).flat();

interface SecretRow {
  key: string;
  status: string;
  version: number;
  value_event_id: string | null;
}

interface LoggedEvent {
  seq: number;
  id: string;
  stream: string;
  version: number;
  hasValue: boolean;
}

type Rejected = { id: string; fields: string[] };

describe('state outside the chain, edited behind the service', () => {
  const data = tempDataDir();
  let t: TestApp;
  let metricsUrl: string;
  const errors: string[] = [];

  const raw = <T>(work: (db: RawDatabase) => Promise<T>) => withRawDatabase(t.config, work);
  const row = (key: string) => raw((db) => db.get<SecretRow>('SELECT key, status, version, value_event_id FROM secrets WHERE key = ?', [key]));
  const setRow = (r: SecretRow) =>
    raw((db) => db.run('UPDATE secrets SET status = ?, version = ?, value_event_id = ? WHERE key = ?', [r.status, r.version, r.value_event_id, r.key]));
  const issue = (spec: { name: string; role: 'admin' | 'executor' | 'auditor'; plugins?: string[] | null }) =>
    t.app.get(TokensService).issue({ plugins: null, ...spec }, SYSTEM_ACTOR);
  const whoami = (token: string) => t.request('/api/v1/whoami', { token });
  const resolve = (token: string, keys: string[], plugin = 'p1') => t.request('/api/v1/resolve', { method: 'POST', token, json: { plugin, keys } });
  const eventsOf = async <D>(type: string) =>
    (await raw((db) => db.all<{ data: string }>('SELECT data FROM events WHERE type = ? ORDER BY seq', [type]))).map((e) => JSON.parse(e.data) as D);
  const ready = async () => {
    const res = await t.request('/health/ready', { token: null });
    return { status: res.status, body: await res.json() };
  };
  const metric = async (labels: string) => {
    const text = await (await fetch(metricsUrl)).text();
    const line = text.split('\n').find((l) => l.startsWith(`secrets_ledger_integrity_failures{${labels}}`));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };

  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => void errors.push(String(message)));
    const port = await freePort();
    t = await startTestApp(testConfig(data.dir, { metricsPort: port }));
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    const send = async (path: string, method: string, json: unknown, status: number) => expect((await t.request(path, { method, json })).status).toBe(status);
    await send('/api/v1/secrets', 'POST', { key: 'HISTORY_KEY', value: HISTORY.HISTORY_KEY[0] }, 201);
    await send('/api/v1/secrets/HISTORY_KEY', 'PATCH', { description: 'v2: description only' }, 200);
    await send('/api/v1/secrets/HISTORY_KEY', 'PATCH', { value: HISTORY.HISTORY_KEY[1] }, 200);
    await send('/api/v1/secrets/HISTORY_KEY', 'PATCH', { description: 'v4: description only' }, 200);
    await send('/api/v1/secrets', 'POST', { key: 'OTHER_KEY', value: HISTORY.OTHER_KEY[0] }, 201);
    await send('/api/v1/secrets/OTHER_KEY', 'PATCH', { value: HISTORY.OTHER_KEY[1] }, 200);
    await send('/api/v1/secrets', 'POST', { key: 'GONE_KEY', value: HISTORY.GONE_KEY[0] }, 201);
    expect((await t.request('/api/v1/secrets/GONE_KEY', { method: 'DELETE' })).status).toBe(204);
    await send('/api/v1/secrets', 'POST', { key: 'INTACT_KEY', value: HISTORY.INTACT_KEY[0] }, 201);
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await t?.close();
    data.cleanup();
  });

  describe('a read-model row pointed at another event', () => {
    let executor: string;

    beforeAll(async () => {
      executor = (await issue({ name: 'runner', role: 'executor', plugins: ['p1'] })).token;
    });

    /**
     * Every way to point a row elsewhere that the log offers: each event of the log as the
     * value event (another key's, an older one of its own, one without a value) with the row's
     * own version or that event's, an id the log never had, the right event with a version off
     * by one, and a removed key's row made active again.
     */
    async function tamperings(): Promise<{ label: string; row: SecretRow }[]> {
      const events = await raw((db) =>
        db.all<LoggedEvent>("SELECT seq, id, stream, version, ciphertext IS NOT NULL AS \"hasValue\" FROM events WHERE stream LIKE 'secret-%' ORDER BY seq"),
      );
      const cases: { label: string; row: SecretRow }[] = [];
      for (const key of ['HISTORY_KEY', 'OTHER_KEY']) {
        const honest = (await row(key))!;
        for (const event of events) {
          if (event.id === honest.value_event_id) continue;
          for (const version of new Set([honest.version, event.version])) {
            cases.push({ label: `${key} -> ${event.stream}@${event.version} (row version ${version})`, row: { ...honest, value_event_id: event.id, version } });
          }
        }
        cases.push({ label: `${key} -> an id not in the log`, row: { ...honest, value_event_id: `evt-${randomBytes(8).toString('hex')}` } });
        for (const version of [honest.version - 1, honest.version + 1]) cases.push({ label: `${key} at version ${version}`, row: { ...honest, version } });
      }
      const gone = (await row('GONE_KEY'))!;
      const goneValue = events.find((event) => event.stream === secretStream('GONE_KEY') && Boolean(event.hasValue))!;
      for (const version of [1, gone.version]) {
        cases.push({ label: `GONE_KEY active again (version ${version})`, row: { ...gone, status: 'active', version, value_event_id: goneValue.id } });
      }
      return cases;
    }

    it('resolves to `unreadable`, never to another value, and resolves honestly once the row is put back', async () => {
      const cases = await tamperings();
      expect(cases.length).toBeGreaterThan(20);
      for (const { label, row: tampered } of cases) {
        const honest = (await row(tampered.key))!;
        await setRow(tampered);
        const res = await resolve(executor, [tampered.key, 'INTACT_KEY']);
        const text = await res.text();
        await setRow(honest);
        expect({ label, status: res.status, body: JSON.parse(text) }).toEqual({
          label,
          status: 200,
          body: { secrets: { INTACT_KEY: HISTORY.INTACT_KEY[0] }, missing: [], unreadable: [tampered.key], revision: expect.any(Number) },
        });
        // Positive control: the search finds the value that was returned.
        expect(text).toContain(HISTORY.INTACT_KEY[0]);
        expect({ label, leaked: ALL_PLAINTEXTS.filter((value) => value !== HISTORY.INTACT_KEY[0] && text.includes(value)) }).toEqual({ label, leaked: [] });
      }
      // The honest rows resolve to the current values (the check refuses only what disagrees).
      const honest = await (await resolve(executor, ['HISTORY_KEY', 'OTHER_KEY', 'GONE_KEY', 'INTACT_KEY'])).json();
      expect(honest).toEqual({
        secrets: { HISTORY_KEY: HISTORY.HISTORY_KEY[1], OTHER_KEY: HISTORY.OTHER_KEY[1], INTACT_KEY: HISTORY.INTACT_KEY[0] },
        missing: ['GONE_KEY'],
        unreadable: [],
        revision: expect.any(Number),
      });
    });

    it('records SecretUnreadable for each key, turns readiness down, and no resolve record names a tampered read', async () => {
      const unreadable = await eventsOf<{ key: string; version: number; reason: string }>('SecretUnreadable');
      expect(new Set(unreadable.map((event) => event.key))).toEqual(new Set(['HISTORY_KEY', 'OTHER_KEY', 'GONE_KEY']));
      for (const event of unreadable) expect(event.reason).toMatch(/^the read model (names|says)/);
      const resolved = await eventsOf<{ keys: { key: string; version: number }[]; unreadable?: string[] }>('SecretsResolved');
      const refused = resolved.filter((event) => event.unreadable !== undefined);
      expect(refused.length).toBeGreaterThan(20);
      for (const event of refused) expect(event.keys).toEqual([{ key: 'INTACT_KEY', version: 1 }]);
      const { status, body } = await ready();
      expect(status).toBe(503);
      expect(body.details.valueIntegrity.status).toBe('down');
      expect(await metric('kind="unreadable_value"')).toBeGreaterThanOrEqual(3);
      expect(errors.some((line) => /the stored value of HISTORY_KEY version \d+ does not open \(the read model/.test(line))).toBe(true);
    });

    it('opens a value only as the stream it is asked for: the associated data binds the key', async () => {
      const { value_event_id: id } = (await row('OTHER_KEY'))!;
      const store = t.app.get(EventStore);
      const opened = await raw(async (db) => store.openValues(db, [{ eventId: id!, stream: secretStream('HISTORY_KEY') }]));
      expect(opened.values.size).toBe(0);
      expect(opened.unreadable.get(id!)?.reason).toMatch(/^the ciphertext does not open/);
      // Control: the same event opens as its own key's value.
      const own = await raw(async (db) => store.openValues(db, [{ eventId: id!, stream: secretStream('OTHER_KEY') }]));
      expect(own.values.get(id!)?.reveal()).toBe(HISTORY.OTHER_KEY[1]);
    });
  });

  describe('a tokens row edited', () => {
    /**
     * Each edit an attacker with the database would try, on a token of its own, with the request
     * that shows the edit would have paid off and the request that shows the token worked before.
     */
    const EDITS: {
      label: string;
      field: string;
      setup: () => Promise<{ id: string; token: string; probe: () => Promise<Response>; before: number; edit: (db: RawDatabase) => Promise<unknown> }>;
    }[] = [
      {
        label: 'an executor raised to admin',
        field: 'role',
        setup: async () => {
          const { id, token } = await issue({ name: 'raised', role: 'executor' });
          return { id, token, probe: () => t.request('/api/v1/tokens', { token }), before: 403, edit: (db) => db.run("UPDATE tokens SET role = 'admin' WHERE id = ?", [id]) };
        },
      },
      {
        label: 'an auditor made an executor',
        field: 'role',
        setup: async () => {
          const { id, token } = await issue({ name: 'auditor-to-executor', role: 'auditor' });
          return { id, token, probe: () => resolve(token, ['INTACT_KEY']), before: 403, edit: (db) => db.run("UPDATE tokens SET role = 'executor' WHERE id = ?", [id]) };
        },
      },
      {
        label: "an executor's plugins widened to all",
        field: 'plugins',
        setup: async () => {
          const { id, token } = await issue({ name: 'widened-all', role: 'executor', plugins: ['p1'] });
          return { id, token, probe: () => resolve(token, ['INTACT_KEY'], 'p2'), before: 403, edit: (db) => db.run('UPDATE tokens SET plugins = NULL WHERE id = ?', [id]) };
        },
      },
      {
        label: "an executor's plugins widened by one",
        field: 'plugins',
        setup: async () => {
          const { id, token } = await issue({ name: 'widened-one', role: 'executor', plugins: ['p1'] });
          return { id, token, probe: () => resolve(token, ['INTACT_KEY'], 'p2'), before: 403, edit: (db) => db.run(`UPDATE tokens SET plugins = '["p1","p2"]' WHERE id = ?`, [id]) };
        },
      },
      {
        label: 'a revoked token un-revoked',
        field: 'revokedAt',
        setup: async () => {
          const { id, token } = await issue({ name: 'unrevoked', role: 'executor' });
          expect((await t.request(`/api/v1/tokens/${id}`, { method: 'DELETE' })).status).toBe(204);
          return { id, token, probe: () => whoami(token), before: 401, edit: (db) => db.run('UPDATE tokens SET revoked_at = NULL WHERE id = ?', [id]) };
        },
      },
      {
        label: 'a token renamed',
        field: 'name',
        setup: async () => {
          const { id, token } = await issue({ name: 'renamed', role: 'auditor' });
          return { id, token, probe: () => whoami(token), before: 200, edit: (db) => db.run("UPDATE tokens SET name = 'bootstrap-admin' WHERE id = ?", [id]) };
        },
      },
      {
        label: "an admin row given an executor's hash",
        field: 'hash',
        setup: async () => {
          const admin = await issue({ name: 'hash-target', role: 'admin' });
          const { token } = await issue({ name: 'hash-thief', role: 'executor' });
          return {
            id: admin.id,
            token,
            probe: () => t.request('/api/v1/tokens', { token }),
            before: 403,
            edit: async (db) => {
              // The executor's own row gives its hash up first (the column is UNIQUE).
              await db.run("UPDATE tokens SET token_hash = 'moved' WHERE token_hash = ?", [hashToken(token)]);
              await db.run('UPDATE tokens SET token_hash = ? WHERE id = ?', [hashToken(token), admin.id]);
            },
          };
        },
      },
      {
        label: 'a row the log never issued',
        field: 'issued',
        setup: async () => {
          const token = `slt_${randomBytes(32).toString('base64url')}`;
          const id = `tok_forged-${randomBytes(4).toString('hex')}`;
          return {
            id,
            token,
            probe: () => whoami(token),
            before: 401,
            edit: (db) =>
              db.run("INSERT INTO tokens (id, name, role, plugins, token_hash, created_at, revoked_at) VALUES (?, 'forged', 'admin', NULL, ?, ?, NULL)", [
                id,
                hashToken(token),
                new Date().toISOString(),
              ]),
          };
        },
      },
    ];
    const rejected: { id: string; field: string; token: string }[] = [];

    it.each(EDITS)('$label: refused with 401 on every request, and reported once', async ({ field, setup }) => {
      const { id, token, probe, before, edit } = await setup();
      expect((await probe()).status).toBe(before);
      await raw(edit);
      // Not once: the token stays refused however often it is presented.
      for (let i = 0; i < 3; i++) {
        expect((await probe()).status).toBe(401);
        expect((await whoami(token)).status).toBe(401);
      }
      rejected.push({ id, field, token });
      const events = (await eventsOf<Rejected>('TokenRowRejected')).filter((event) => event.id === id);
      expect(events).toEqual([expect.objectContaining({ id, fields: expect.arrayContaining([field]) })]);
      const { status, body } = await ready();
      expect(status).toBe(503);
      expect(body.details.tokenIntegrity.rejected).toContainEqual(expect.objectContaining({ id, fields: expect.arrayContaining([field]) }));
      expect(errors.filter((line) => line.includes(`the tokens row of ${id} disagrees with the log`))).toHaveLength(1);
    });

    it('reports without the token or its hash, and counts each refused row in the metric', async () => {
      expect(await metric('kind="rejected_token"')).toBe(EDITS.length);
      const reports = JSON.stringify([await eventsOf('TokenRowRejected'), (await ready()).body, errors]);
      const needles = rejected.flatMap(({ token }) => [token, hashToken(token)]);
      // Positive control: the same search finds the ids reported, and the hashes in the tokens table.
      for (const { id } of rejected) expect(reports).toContain(id);
      const table = JSON.stringify(await raw((db) => db.all('SELECT token_hash FROM tokens')));
      expect(rejected.some(({ token }) => table.includes(hashToken(token)))).toBe(true);
      expect(needles.filter((needle) => reports.includes(needle))).toEqual([]);
    });

    it('an honest token still authenticates (the check refuses only what disagrees)', async () => {
      const { token } = await issue({ name: 'honest', role: 'auditor' });
      expect((await whoami(token)).status).toBe(200);
      expect((await whoami(ADMIN_TOKEN)).status).toBe(200);
    });
  });

  describe('audit verify', () => {
    const verify = async () => (await t.request('/api/v1/audit/verify')).json();

    it('names each row that disagrees with the log, and is ok again once they are put back', async () => {
      // What the token edits above left: each row is still edited.
      const before = await verify();
      expect(before.ok).toBe(false);
      expect(before.brokenAt).toBeUndefined();
      for (const field of ['role', 'plugins', 'revokedAt', 'name', 'hash', 'issued']) {
        expect(before.disagreements).toContainEqual(expect.objectContaining({ table: 'tokens', field }));
      }

      const honest = (await row('HISTORY_KEY'))!;
      const other = (await row('OTHER_KEY'))!;
      await setRow({ ...honest, value_event_id: other.value_event_id });
      const tampered = await verify();
      expect(tampered.ok).toBe(false);
      expect(tampered.disagreements).toContainEqual({
        table: 'secrets',
        key: 'HISTORY_KEY',
        field: 'valueEventId',
        reason: `the read model says ${JSON.stringify(other.value_event_id)}; the log says ${JSON.stringify(honest.value_event_id)}`,
      });
      const tokenIds = new Set<string>(tampered.disagreements.filter((d: { table: string }) => d.table === 'tokens').map((d: { id: string }) => d.id));
      expect(tokenIds.size).toBeGreaterThanOrEqual(8);

      if (testEngine() === 'sqlite') {
        // The CLI on the file says the same, and exits 1.
        const cli = runCli(['audit', 'verify', '--db', t.config.databasePath]);
        expect({ cli: CLI, status: cli.status }).toEqual({ cli: CLI, status: 1 });
        expect(cli.stdout).toMatch(/^NOT OK/);
        expect(cli.stdout).toMatch(/"table":"secrets","key":"HISTORY_KEY","field":"valueEventId"/);
        expect(cli.stdout).toMatch(/"table":"tokens","id":"tok_[^"]+","field":"role"/);
      }

      // Put back: the secrets row as it was, the edited tokens rows removed (their tokens are
      // refused for good either way), the forged one included.
      await setRow(honest);
      await raw(async (db) => {
        for (const id of tokenIds) await db.run('DELETE FROM tokens WHERE id = ?', [id]);
      });
      const after = await verify();
      const missingRows = after.disagreements.filter((d: { field: string }) => d.field === 'id');
      // A token the log issued whose row is gone is named too; nothing else disagrees.
      expect(after.disagreements.filter((d: { field: string }) => d.field !== 'id')).toEqual([]);
      expect(missingRows.length).toBeGreaterThanOrEqual(7);
    });

    it('finds nothing while writes run beside it (a row newer than the replay is not a disagreement)', async () => {
      const dir = tempDataDir();
      const fresh = await startTestApp(testConfig(dir.dir));
      try {
        const writes: Promise<unknown>[] = [];
        for (let i = 0; i < 30; i++) {
          writes.push(fresh.request('/api/v1/secrets', { method: 'POST', json: { key: `CONCURRENT_${i}`, value: plaintext('concurrent') } }));
          writes.push(
            fresh
              .request('/api/v1/tokens', { method: 'POST', json: { name: `concurrent-${i}`, role: 'auditor' } })
              .then(async (res) => fresh.request(`/api/v1/tokens/${(await res.json()).id}`, { method: 'DELETE' })),
          );
        }
        const verifies = Array.from({ length: 4 }, () => fresh.request('/api/v1/audit/verify').then((res) => res.json()));
        await Promise.all(writes);
        for (const result of [...(await Promise.all(verifies)), await (await fresh.request('/api/v1/audit/verify')).json()]) {
          expect(result).toMatchObject({ ok: true, disagreements: [] });
        }
      } finally {
        await fresh.close();
        dir.cleanup();
      }
    });
  });
});
