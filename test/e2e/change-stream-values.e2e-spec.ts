import { Logger } from '@nestjs/common';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { OpenStreams } from '../../src/changes/open-streams';
import { Metrics } from '../../src/metrics/metrics';
import type { PushedChange } from '../../src/contract/change-notification';
import { DeliveryRecords, SecretsResolvedData } from '../../src/resolve/delivery-records';
import { ResolveService } from '../../src/resolve/resolve.service';
import { SECRET_VALUE_MAX_BYTES } from '../../src/secrets/domain/secret-key';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { connect, NatsConnection } from 'nats';
import { ChangeReader, openChangeReader } from '../support/change-reader';
import { startServe, stop } from '../support/cli';
import { freePort, sharedNats, uniqueKey } from '../support/nats';
import { expectEventually } from '../support/expect-eventually';
import { withRawDatabase } from '../support/raw-database';
import { ADMIN_TOKEN, TestApp, tempDataDir, useTestApp } from '../support/test-app';

const PLUGIN = '@values/plugin';
const NO_NATS = { url: 'nats://127.0.0.1:1' };

type Requester = Pick<TestApp, 'request' | 'config'>;

const pushed = (reader: ChangeReader) => reader.changes() as PushedChange[];
const valuesQuery = (keys: string[], plugin = PLUGIN) => `values=true&plugin=${encodeURIComponent(plugin)}&keys=${keys.join(',')}`;

async function setSecret(t: Requester, key: string, value: string, extra: Record<string, unknown> = {}): Promise<number> {
  const patched = await t.request(`/api/v1/secrets/${key}`, { method: 'PATCH', json: { value, ...extra } });
  if (patched.status === 200) return ((await patched.json()) as { version: number }).version;
  const added = await t.request('/api/v1/secrets', { method: 'POST', json: { key, value, ...extra } });
  expect(added.status).toBe(201);
  return ((await added.json()) as { version: number }).version;
}

/**
 * Holds the next call of `target[method]` until `release()`: the service's own code, only made
 * to wait, to show what happens in between. `called` turns true when the call arrives.
 */
function holdNextCall<T extends object, M extends keyof T>(target: T, method: M) {
  const original = (target[method] as (...args: unknown[]) => Promise<unknown>).bind(target);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const hold = { called: false, release, restore: () => spy.mockRestore() };
  const spy = jest.spyOn(target, method as never).mockImplementationOnce((async (...args: unknown[]) => {
    hold.called = true;
    await held;
    return original(...args);
  }) as never);
  return hold;
}

interface StreamEntry {
  actor: { id: string; name: string };
  data: SecretsResolvedData;
}

/** The `SecretsResolved` entries that record values pushed over streams. */
async function streamEntries(t: Requester): Promise<StreamEntry[]> {
  const rows = await withRawDatabase(t.config, (db) => db.all<{ actor: string; data: string }>("SELECT actor, data FROM events WHERE type = 'SecretsResolved' ORDER BY seq"));
  return rows.map((row) => ({ actor: JSON.parse(row.actor), data: JSON.parse(row.data) })).filter((entry) => entry.data.via === 'stream');
}

/** SPEC §3, values mode of `GET /api/v1/changes`: values pushed to an authorized executor's own stream. */
describe('the change stream in values mode', () => {
  const t = useTestApp({ nats: NO_NATS });
  const readers: ChangeReader[] = [];
  const open = async (token: string, query: string, lastEventId?: string) => {
    const reader = await openChangeReader(t.baseUrl, token, { query, lastEventId });
    readers.push(reader);
    return reader;
  };
  const issue = async (name: string, role: 'executor' | 'auditor', plugins: string[] | null) =>
    t.app.get(TokensService).issue({ name, role, plugins }, SYSTEM_ACTOR);
  let executor: { id: string; token: string };

  beforeAll(async () => {
    executor = await issue('values-executor', 'executor', [PLUGIN]);
  });
  afterEach(() => readers.splice(0).forEach((reader) => reader.close()));

  it('the metrics count the open streams by mode, and forget each once it closes', async () => {
    const gauge = async () =>
      Object.fromEntries(
        (await t.app.get(Metrics).registry.getSingleMetric('secrets_ledger_change_streams_open')!.get()).values.map(({ labels, value }) => [labels.mode, value]),
      );
    // Streams of earlier cases end when their readers close, a moment after.
    await expectEventually(async () => expect(await gauge()).toEqual({ notifications: 0, values: 0 }));
    const plain = await open(ADMIN_TOKEN, '');
    const values = await open(executor.token, valuesQuery([uniqueKey('METRIC_KEY')]));
    expect([plain.status, values.status]).toEqual([200, 200]);
    await expectEventually(async () => expect(await gauge()).toEqual({ notifications: 1, values: 1 }));
    values.close();
    await expectEventually(async () => expect(await gauge()).toEqual({ notifications: 1, values: 0 }));
    plain.close();
    await expectEventually(async () => expect(await gauge()).toEqual({ notifications: 0, values: 0 }));
  });

  it('an authorized executor gets each live change of its keys with the value resolve gives, and nothing of other keys', async () => {
    const reader = await open(executor.token, valuesQuery(['PUSH_A', 'PUSH_B']));
    expect(reader.status).toBe(200);
    await expectEventually(() => expect(reader.raw().length).toBeGreaterThan(0));
    // Each write once the last one's event arrived: a value read after the next write committed
    // would be that write's, and the event would say superseded instead (a case of its own below).
    const versionA = await setSecret(t, 'PUSH_A', 'pushed-a-1');
    await expectEventually(() => expect(pushed(reader)).toHaveLength(1));
    await setSecret(t, 'PUSH_OTHER', 'pushed-other-1');
    const versionB = await setSecret(t, 'PUSH_B', 'pushed-b-1');
    await expectEventually(() => expect(pushed(reader)).toHaveLength(2));
    await setSecret(t, 'PUSH_A', 'pushed-a-2');
    await expectEventually(() => expect(pushed(reader)).toHaveLength(3));
    expect((await t.request('/api/v1/secrets/PUSH_B', { method: 'DELETE' })).status).toBe(204);
    await expectEventually(() => expect(pushed(reader).map((c) => c.type)).toEqual(['SecretAdded', 'SecretAdded', 'SecretUpdated', 'SecretRemoved']));
    const [a1, b1, a2, removed] = pushed(reader);
    expect([a1.key, a1.version, a1.value]).toEqual(['PUSH_A', versionA, 'pushed-a-1']);
    expect([b1.key, b1.version, b1.value]).toEqual(['PUSH_B', versionB, 'pushed-b-1']);
    expect([a2.key, a2.version, a2.value]).toEqual(['PUSH_A', versionA + 1, 'pushed-a-2']);
    // A removal carries no value, and no reason for lacking one.
    expect(Object.keys(removed).sort()).toEqual(['at', 'eventId', 'key', 'revision', 'seq', 'type', 'version']);
    const resolved = await t.request('/api/v1/resolve', { method: 'POST', token: executor.token, json: { plugin: PLUGIN, keys: ['PUSH_A'] } });
    expect(((await resolved.json()) as { secrets: Record<string, string> }).secrets.PUSH_A).toBe(a2.value);
    // The value-free streams of the same route stay value-free, byte for byte the notification.
    const plain = await open(executor.token, 'after=0&keys=PUSH_A');
    await expectEventually(() => expect(plain.changes()).toHaveLength(2));
    for (const change of plain.changes()) expect(Object.keys(change).sort()).toEqual(['at', 'eventId', 'key', 'revision', 'seq', 'type', 'version']);
  });

  it('every pushed value has its SecretsResolved entry (token, plugin, key, version, via stream) durable when it arrives', async () => {
    const reader = await open(executor.token, valuesQuery(['AUDITED_A', 'AUDITED_B']));
    await expectEventually(() => expect(reader.raw().length).toBeGreaterThan(0));
    // The trail is read the moment each event is parsed, before the test sees it: its entry must be there.
    const seenAtArrival: Promise<StreamEntry[]>[] = [];
    const parsed = reader.events.push.bind(reader.events);
    reader.events.push = (...events) => {
      for (const event of events) if (event.event === 'change') seenAtArrival.push(streamEntries(t));
      return parsed(...events);
    };
    for (let i = 0; i < 6; i++) {
      await setSecret(t, i % 2 === 0 ? 'AUDITED_A' : 'AUDITED_B', `audited-value-${i}`);
      await expectEventually(() => expect(pushed(reader)).toHaveLength(i + 1));
    }
    const arrivals = pushed(reader);
    const trails = await Promise.all(seenAtArrival);
    arrivals.forEach((change, i) => {
      expect(change.value).toBe(`audited-value-${i}`);
      const entry = trails[i].find((e) => e.data.keys.some((read) => read.key === change.key && read.version === change.version));
      expect(entry).toBeDefined();
      expect(entry!.actor.id).toBe(executor.id);
      expect(entry!.data).toMatchObject({ plugin: PLUGIN, keys: [{ key: change.key, version: change.version }], via: 'stream' });
    });
    // The entry names no value.
    const all = JSON.stringify(await streamEntries(t));
    for (let i = 0; i < 6; i++) expect(all).not.toContain(`audited-value-${i}`);
  });

  it('a value waits for its entry: while the write of the entry is held, nothing of it reaches the reader', async () => {
    const reader = await open(executor.token, valuesQuery(['HELD_RECORD']));
    await expectEventually(() => expect(reader.raw().length).toBeGreaterThan(0));
    const hold = holdNextCall(t.app.get(DeliveryRecords), 'record');
    try {
      await setSecret(t, 'HELD_RECORD', 'held-record-value');
      await expectEventually(() => expect(hold.called).toBe(true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(reader.raw().includes(Buffer.from('held-record-value'))).toBe(false);
      expect((await streamEntries(t)).filter((entry) => entry.data.keys.some((read) => read.key === 'HELD_RECORD'))).toEqual([]);
      hold.release();
      await expectEventually(() => expect(pushed(reader).map((c) => c.value)).toEqual(['held-record-value']));
    } finally {
      hold.restore();
    }
  });

  it('N streams of one token share one entry per change (deliveries: N)', async () => {
    const shared = await issue('values-shared', 'executor', [PLUGIN]);
    const streams = await Promise.all(Array.from({ length: 5 }, () => open(shared.token, valuesQuery(['SHARED_KEY']))));
    for (const reader of streams) await expectEventually(() => expect(reader.raw().length).toBeGreaterThan(0));
    const version = await setSecret(t, 'SHARED_KEY', 'shared-value');
    for (const reader of streams) await expectEventually(() => expect(pushed(reader).map((c) => c.value)).toEqual(['shared-value']));
    const entries = (await streamEntries(t)).filter((entry) => entry.actor.id === shared.id);
    expect(entries.map((entry) => [entry.data.keys, entry.data.deliveries])).toEqual([[[{ key: 'SHARED_KEY', version }], 5]]);
  });

  it('an admin, an auditor, a token for another plugin are refused with 403, recorded as AccessDenied; no stream opens', async () => {
    const auditor = await issue('values-auditor', 'auditor', null);
    const other = await issue('values-other-plugin', 'executor', ['@values/other']);
    const before = t.app.get(OpenStreams).size;
    for (const token of [ADMIN_TOKEN, auditor.token, other.token]) {
      const res = await t.request(`/api/v1/changes?${valuesQuery(['REFUSED_KEY'])}`, { token });
      expect([res.status, res.headers.get('content-type')]).toEqual([403, 'application/problem+json; charset=utf-8']);
    }
    expect(t.app.get(OpenStreams).size).toBe(before);
    const denied = await withRawDatabase(t.config, (db) => db.all<{ actor: string; data: string }>("SELECT actor, data FROM events WHERE type = 'AccessDenied'"));
    const refusals = denied.map((row) => [JSON.parse(row.actor).role, JSON.parse(row.data)]).filter(([, data]) => data.action === `stream values ${PLUGIN}`);
    expect(refusals.map(([role]) => role).sort()).toEqual(['admin', 'auditor', 'executor']);
    for (const [, data] of refusals) expect(data.keys).toEqual(['REFUSED_KEY']);
  });

  it.each([
    ['values other than true', 'values=1&plugin=p&keys=A', 'values'],
    ['values without plugin', 'values=true&keys=A', 'plugin'],
    ['values without keys', 'values=true&plugin=p', 'keys'],
    ['plugin without values', 'plugin=p&keys=A', 'plugin'],
    ['a bad plugin name', 'values=true&plugin=%3Cscript-echo%3E&keys=A', 'plugin'],
    ['257 keys', `values=true&plugin=p&keys=${Array.from({ length: 257 }, (_, i) => `K${i}`).join(',')}`, 'keys'],
    ['values twice', 'values=true&values=true&plugin=p&keys=A', 'values'],
  ])('%s: 400 problem+json naming the parameter, echoing nothing', async (_label, query, field) => {
    const res = await t.request(`/api/v1/changes?${query}`, { token: executor.token });
    const text = await res.text();
    expect([res.status, res.headers.get('content-type')]).toEqual([400, 'application/problem+json; charset=utf-8']);
    expect(JSON.parse(text).errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(text).not.toContain('script-echo');
    expect(text).not.toContain('K256');
  });

  it('catch-up carries no value (withheld: catch-up); live changes after it do', async () => {
    const first = await open(executor.token, valuesQuery(['CATCH_UP']));
    await expectEventually(() => expect(first.raw().length).toBeGreaterThan(0));
    await setSecret(t, 'CATCH_UP', 'catch-up-1');
    await expectEventually(() => expect(pushed(first)).toHaveLength(1));
    first.close();
    await setSecret(t, 'CATCH_UP', 'catch-up-2');
    await setSecret(t, 'CATCH_UP', 'catch-up-3');
    const resumed = await open(executor.token, valuesQuery(['CATCH_UP']), first.lastEventId());
    await expectEventually(() => expect(pushed(resumed)).toHaveLength(2));
    expect(pushed(resumed).map((c) => [c.value, c.withheld])).toEqual([
      [undefined, 'catch-up'],
      [undefined, 'catch-up'],
    ]);
    await setSecret(t, 'CATCH_UP', 'catch-up-4');
    await expectEventually(() => expect(pushed(resumed).map((c) => c.value)).toEqual([undefined, undefined, 'catch-up-4']));
  });

  it('a change whose key changed again before its value was read says superseded, and the next one carries the newer value', async () => {
    const reader = await open(executor.token, valuesQuery(['SUPERSEDED']));
    await expectEventually(() => expect(reader.raw().length).toBeGreaterThan(0));
    // The first change's read waits until the second write has committed: it finds version 2.
    const hold = holdNextCall(t.app.get(ResolveService), 'read');
    try {
      await setSecret(t, 'SUPERSEDED', 'superseded-1');
      await setSecret(t, 'SUPERSEDED', 'superseded-2');
      hold.release();
      await expectEventually(() => expect(pushed(reader).map((c) => [c.version, c.value ?? c.withheld])).toEqual([
        [1, 'superseded'],
        [2, 'superseded-2'],
      ]));
    } finally {
      hold.restore();
    }
  });

  it('a value that cannot be read (the storage fails) ends the stream, and resuming from its last id loses no change', async () => {
    const reader = await open(executor.token, valuesQuery(['FAILED_READ']));
    await setSecret(t, 'FAILED_READ', 'failed-read-1');
    await expectEventually(() => expect(pushed(reader)).toHaveLength(1));
    const second = await open(executor.token, valuesQuery(['FAILED_READ']));
    // The read of values fails once, as a storage fault would make it.
    const read = jest.spyOn(t.app.get(ResolveService), 'read').mockRejectedValueOnce(new Error('storage unavailable'));
    const warnings: string[] = [];
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
    try {
      await setSecret(t, 'FAILED_READ', 'failed-read-2');
      await Promise.all([reader.closed, second.closed]);
    } finally {
      read.mockRestore();
      warn.mockRestore();
    }
    expect(reader.raw().includes(Buffer.from('failed-read-2'))).toBe(false);
    // Visible once for the change, not once per stream, and without the value.
    expect(warnings.filter((line) => line.includes('FAILED_READ'))).toEqual([
      expect.stringMatching(/^the value of FAILED_READ at revision \d+ was not pushed; .*: storage unavailable$/),
    ]);
    const resumed = await open(executor.token, valuesQuery(['FAILED_READ']), reader.lastEventId());
    await expectEventually(() => expect(pushed(resumed).map((c) => [c.version, c.withheld])).toEqual([[2, 'catch-up']]));
  });

  it('a revoked token: event: revoked within a second, and no value after it', async () => {
    const revokedToken = await issue('values-revoked', 'executor', [PLUGIN]);
    const reader = await open(revokedToken.token, valuesQuery(['REVOKED_KEY']));
    await setSecret(t, 'REVOKED_KEY', 'before-revoke');
    await expectEventually(() => expect(pushed(reader).map((c) => c.value)).toEqual(['before-revoke']));
    const revoked = Date.now();
    expect((await t.request(`/api/v1/tokens/${revokedToken.id}`, { method: 'DELETE' })).status).toBe(204);
    await setSecret(t, 'REVOKED_KEY', 'after-revoke');
    await reader.closed;
    expect(Date.now() - revoked).toBeLessThan(1_000);
    expect(reader.events.at(-1)?.event).toBe('revoked');
    expect(reader.raw().includes(Buffer.from('after-revoke'))).toBe(false);
    expect((await streamEntries(t)).filter((entry) => entry.actor.id === revokedToken.id)).toHaveLength(1);
  });
});

describe('the change stream in values mode, with SECRETS_REFUSE_EXPIRED=true', () => {
  const t = useTestApp({ nats: NO_NATS, expiry: { warningDays: 14, refuseExpired: true } });
  let reader: ChangeReader | undefined;
  afterAll(() => reader?.close());

  it('an expired secret is sent without its value, with the reason resolve gives, and the refusal recorded', async () => {
    const executor = await t.app.get(TokensService).issue({ name: 'values-expired', role: 'executor', plugins: null }, SYSTEM_ACTOR);
    reader = await openChangeReader(t.baseUrl, executor.token, { query: valuesQuery(['EXPIRED_PUSH']) });
    await expectEventually(() => expect(reader!.raw().length).toBeGreaterThan(0));
    await setSecret(t, 'EXPIRED_PUSH', 'expired-push-value', { expiresAt: '2020-01-01T00:00:00Z' });
    await expectEventually(() => expect(pushed(reader!).map((c) => [c.value, c.withheld])).toEqual([[undefined, 'expired']]));
    expect(reader.raw().includes(Buffer.from('expired-push-value'))).toBe(false);
    const entries = await streamEntries(t);
    expect(entries.map((entry) => entry.data)).toEqual([expect.objectContaining({ keys: [], expired: ['EXPIRED_PUSH'], via: 'stream' })]);
  });
});

/** A values-mode reader that stops reading (the bound of the value-free stream, values counted in it). */
describe('a values-mode stream whose reader stops reading', () => {
  const t = useTestApp({ nats: NO_NATS, streams: { perToken: 4, total: 8, heartbeatMs: 15_000, maxUnsentBytes: 8 * 1024 } });
  const readers: ChangeReader[] = [];
  afterAll(() => readers.forEach((reader) => reader.close()));

  it('is disconnected, and reconnecting with its last id it misses no change; the values it got are the ones written', async () => {
    const executor = await t.app.get(TokensService).issue({ name: 'values-stalled', role: 'executor', plugins: [PLUGIN] }, SYSTEM_ACTOR);
    const query = valuesQuery(['STALLED_VALUE']);
    const reader = await openChangeReader(t.baseUrl, executor.token, { query });
    readers.push(reader);
    await expectEventually(() => expect(reader.raw().length).toBeGreaterThan(0));
    const streams = t.app.get(OpenStreams);
    const before = streams.size;
    reader.pause();
    // Large values: the kernel takes megabytes of a loopback socket's unread data first.
    const written = new Map<number, string>();
    for (let i = 0; i < 1_000 && streams.size === before; i++) {
      const value = `stalled-${i}-`.padEnd(SECRET_VALUE_MAX_BYTES, String.fromCharCode(97 + (i % 26)));
      written.set(await setSecret(t, 'STALLED_VALUE', value), value);
    }
    expect(streams.size).toBe(before - 1);
    const head = Math.max(...written.keys());
    reader.resume();
    await reader.closed;
    const first = pushed(reader);
    expect(first.length).toBeGreaterThan(0);
    // A value read after the next write committed is that write's: the event says superseded instead.
    for (const change of first) expect(change.value ?? change.withheld).toBe(change.value === undefined ? 'superseded' : written.get(change.version));
    expect(first.filter((change) => change.value !== undefined).length).toBeGreaterThan(0);
    const resumed = await openChangeReader(t.baseUrl, executor.token, { query, lastEventId: reader.lastEventId() });
    readers.push(resumed);
    await expectEventually(() => expect(pushed(resumed).at(-1)?.version).toBe(head), 20_000);
    const versions = [...first, ...pushed(resumed)].map((change) => change.version);
    expect(versions).toEqual(Array.from({ length: head }, (_, i) => i + 1));
  }, 120_000);
});

/**
 * Where plaintext goes, on a `serve` process logging at trace level, with NATS and metrics on:
 * a value appears on the values-mode stream of an executor allowed its plugin, and on nothing
 * else — not on admin, auditor or value-free executor streams, nor in a refused one's answer,
 * the logs, a metrics scrape or anything NATS carried.
 */
describe('values mode: where the plaintext goes', () => {
  const data = tempDataDir();
  let serve: { child: ChildProcess; url: string; output: () => string };
  let nats: Awaited<ReturnType<typeof sharedNats>>;
  let spy: NatsConnection;
  let metricsPort: number;
  const carried: Buffer[] = [];
  const readers: ChangeReader[] = [];

  beforeAll(async () => {
    nats = await sharedNats();
    spy = await connect({ servers: nats.url });
    spy.subscribe('>', { callback: (_error, message) => carried.push(Buffer.concat([Buffer.from(message.subject), Buffer.from(message.data)])) });
    await spy.flush();
    metricsPort = await freePort();
    serve = await startServe({
      SECRETS_DATA_DIR: data.dir,
      SECRETS_ADMIN_TOKEN: ADMIN_TOKEN,
      SECRETS_MASTER_KEYS: `test-1:${randomBytes(32).toString('base64')}`,
      NATS_URL: nats.url,
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'trace',
    });
  }, 60_000);
  afterAll(async () => {
    readers.forEach((reader) => reader.close());
    await stop(serve?.child);
    await spy?.close();
    await nats?.dispose();
    data.cleanup();
  });

  it('a value appears only on the values-mode stream of an authorized executor (positive control), never in logs, metrics or NATS', async () => {
    const call = (path: string, init: { method?: string; token?: string; json?: unknown } = {}) =>
      fetch(serve.url + path, {
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${init.token ?? ADMIN_TOKEN}`, ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
      });
    const issue = async (name: string, role: string, plugins?: string[]) =>
      ((await (await call('/api/v1/tokens', { method: 'POST', json: { name, role, ...(plugins ? { plugins } : {}) } })).json()) as { token: string }).token;
    const executor = await issue('plain-executor', 'executor', [PLUGIN]);
    const otherPlugin = await issue('plain-other', 'executor', ['@values/other']);
    const auditor = await issue('plain-auditor', 'auditor');
    const keys = [uniqueKey('PLAIN_PUSH'), uniqueKey('PLAIN_PUSH')];
    const open = async (token: string, query: string) => {
      const reader = await openChangeReader(serve.url, token, { query });
      readers.push(reader);
      return reader;
    };
    const authorized = await open(executor, valuesQuery(keys));
    const others = [await open(ADMIN_TOKEN, `keys=${keys.join(',')}`), await open(auditor, `keys=${keys.join(',')}`), await open(executor, `keys=${keys.join(',')}`)];
    const refused = await call(`/api/v1/changes?${valuesQuery(keys)}`, { token: otherPlugin });
    expect(refused.status).toBe(403);
    const refusedBody = Buffer.from(await refused.arrayBuffer());
    for (const reader of [authorized, ...others]) await expectEventually(() => expect(reader.raw().length).toBeGreaterThan(0));

    const values: string[] = [];
    for (const [i, key] of [...keys, ...keys].entries()) {
      const value = `plain-push-${i}-${randomBytes(8).toString('hex')}`;
      values.push(value);
      const res = i < keys.length ? await call('/api/v1/secrets', { method: 'POST', json: { key, value } }) : await call(`/api/v1/secrets/${key}`, { method: 'PATCH', json: { value } });
      expect(res.status).toBeLessThan(300);
    }
    await expectEventually(() => expect((authorized.changes() as PushedChange[]).map((c) => c.value)).toEqual(values));
    for (const reader of others) await expectEventually(() => expect(reader.changes()).toHaveLength(values.length));
    // NATS carried the same changes' notifications (positive control for the NATS capture).
    await expectEventually(() => expect(carried.some((bytes) => bytes.includes(Buffer.from(keys[1])))).toBe(true));
    const metrics = Buffer.from(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
    const logs = Buffer.from(serve.output());

    const holding = (bytes: Buffer) => values.filter((value) => bytes.includes(Buffer.from(value)));
    expect(holding(authorized.raw())).toEqual(values);
    for (const reader of others) expect(holding(reader.raw())).toEqual([]);
    expect(holding(refusedBody)).toEqual([]);
    expect(holding(Buffer.concat(carried))).toEqual([]);
    expect(holding(metrics)).toEqual([]);
    expect(holding(logs)).toEqual([]);
    // Positive controls: the logs hold the requests (the refused stream, the writes), the scrape its metrics.
    expect(logs.toString()).toMatch(/"route":"\/api\/v1\/changes","statusCode":403/);
    expect(logs.toString()).toMatch(/"method":"PATCH","route":"\/api\/v1\/secrets\/:key","statusCode":200/);
    expect(metrics.length).toBeGreaterThan(100);
  }, 60_000);
});
