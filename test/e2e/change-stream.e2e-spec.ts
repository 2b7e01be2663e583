import fc from 'fast-check';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import type { ChangeNotification } from '../../src/contract/change-notification';
import { ChangeReader, openChangeReader } from '../support/change-reader';
import { expectEventually } from '../support/expect-eventually';
import { withRawDatabase } from '../support/raw-database';
import { ADMIN_TOKEN, TestApp, startTestApp, tempDataDir, testConfig, useTestApp } from '../support/test-app';

/** No NATS server listens there: everything below works without one. */
const NO_NATS = { url: 'nats://127.0.0.1:1' };

const revisionsOf = (changes: ChangeNotification[]) => changes.map((change) => change.revision);
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

type Requester = Pick<TestApp, 'request'>;

/** The store-wide revision, as the service answers it to an executor's resolve. */
async function headRevision(t: Requester, executor: string): Promise<number> {
  const res = await t.request('/api/v1/resolve', { method: 'POST', token: executor, json: { plugin: 'stream-test', keys: ['ANY_KEY'] } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { revision: number }).revision;
}

/** Adds `count` secrets, `concurrency` requests at a time; resolves with their values. */
async function addSecrets(t: Requester, prefix: string, count: number, concurrency = 16): Promise<string[]> {
  const values: string[] = [];
  for (let start = 0; start < count; start += concurrency) {
    await Promise.all(
      range(start, Math.min(count, start + concurrency) - 1).map(async (i) => {
        const value = `${prefix.toLowerCase()}-value-${i}-${Math.random().toString(36).slice(2)}`;
        values.push(value);
        const res = await t.request('/api/v1/secrets', { method: 'POST', json: { key: `${prefix}_${i}`, value } });
        expect(res.status).toBe(201);
      }),
    );
  }
  return values;
}

/** Reads until the stream has reached `revision` (or the time is up), then stops reading it. */
async function readUntil(reader: ChangeReader, revision: number, timeoutMs = 10_000): Promise<ChangeNotification[]> {
  try {
    await expectEventually(() => expect(reader.changes().at(-1)?.revision ?? -1).toBeGreaterThanOrEqual(revision), timeoutMs);
  } finally {
    // Closed on a failure too: a stream left open counts against the token's limit, and every
    // case fast-check tries while shrinking would then be refused (429) for the wrong reason.
    reader.close();
  }
  return reader.changes();
}

/** SPEC §3 `GET /api/v1/changes`, on the engine of the project (both run this suite). */
describe('the change stream', () => {
  const t = useTestApp({ nats: NO_NATS });
  let executor: string;
  const readers: ChangeReader[] = [];
  const open = async (token: string, options: Parameters<typeof openChangeReader>[2] = {}) => {
    const reader = await openChangeReader(t.baseUrl, token, options);
    readers.push(reader);
    return reader;
  };

  beforeAll(async () => {
    executor = (await t.app.get(TokensService).issue({ name: 'stream-executor', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
  });
  afterEach(() => readers.splice(0).forEach((reader) => reader.close()));

  it('answers text/event-stream, retry: set and no-store, and a change arrives within a second with no NATS at all', async () => {
    const reader = await open(executor);
    expect(reader.status).toBe(200);
    expect(reader.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(reader.headers['cache-control']).toBe('no-store');
    await expectEventually(() => expect(reader.raw().toString()).toMatch(/^retry: \d+\n/));
    expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'STREAM_LIVE', value: 'live-value-1' } })).status).toBe(201);
    const written = Date.now();
    await expectEventually(() => expect(reader.changes().map((c) => c.key)).toEqual(['STREAM_LIVE']), 1_000);
    expect(Date.now() - written).toBeLessThan(1_000);
    const [change] = reader.changes();
    expect(reader.events[0]).toMatchObject({ event: 'change', id: String(change.revision) });
    expect(Object.keys(change).sort()).toEqual(['at', 'eventId', 'key', 'revision', 'seq', 'type', 'version']);
  });

  it('every role may follow; no token is 401, a bad revision or parameter 400, before any stream opens', async () => {
    for (const token of [ADMIN_TOKEN, executor]) {
      const reader = await open(token, { query: 'after=0' });
      expect(reader.status).toBe(200);
    }
    expect((await t.request('/api/v1/changes', { token: null })).status).toBe(401);
    for (const query of ['after=-1', 'after=1.5', 'after=x', 'keys=', 'keys=lower', 'keys=A,A', 'since=3']) {
      const res = await t.request(`/api/v1/changes?${query}`);
      expect([query, res.status, res.headers.get('content-type')]).toEqual([query, 400, 'application/problem+json; charset=utf-8']);
    }
    expect((await t.request('/api/v1/changes', { headers: { 'last-event-id': 'abc' } })).status).toBe(400);
  });

  it('resumes from any revision, 0 included, by after= or Last-Event-ID: every change after it once, in order, as the log has it', async () => {
    const exists = new Set<string>();
    const step = fc.record({ op: fc.constantFrom('set', 'set', 'remove'), key: fc.constantFrom('RESUME_A', 'RESUME_B', 'RESUME_C') });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 10 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.boolean(), async (steps, where, byHeader) => {
        const expected: Pick<ChangeNotification, 'type' | 'key'>[] = [];
        for (const { op, key } of steps) {
          if (op === 'remove') {
            const res = await t.request(`/api/v1/secrets/${key}`, { method: 'DELETE' });
            expect(res.status).toBe(exists.delete(key) ? 204 : 404);
            if (res.status === 204) expected.push({ type: 'SecretRemoved', key });
            continue;
          }
          const value = `resume-${Math.random()}`;
          if (exists.has(key)) {
            expect((await t.request(`/api/v1/secrets/${key}`, { method: 'PATCH', json: { value } })).status).toBe(200);
            expected.push({ type: 'SecretUpdated', key });
          } else {
            expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key, value } })).status).toBe(201);
            exists.add(key);
            expected.push({ type: 'SecretAdded', key });
          }
        }
        const head = await headRevision(t, executor);
        const after = Math.floor(where * (head + 1));
        const reader = await open(executor, byHeader ? { lastEventId: String(after) } : { query: `after=${after}` });
        const changes = after === head ? [] : await readUntil(reader, head);
        expect(revisionsOf(changes)).toEqual(range(after + 1, head));
        // The tail is this run's steps, as the decider turned them into events.
        const tail = changes.slice(Math.max(0, changes.length - expected.length)).map(({ type, key }) => ({ type, key }));
        expect(tail).toEqual(expected.slice(expected.length - tail.length));
        const seqs = changes.map((c) => c.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      }),
      { numRuns: 8 },
    );
    // The Last-Event-ID header wins over after=.
    const head = await headRevision(t, executor);
    const reader = await open(executor, { lastEventId: String(head - 1), query: 'after=0' });
    expect(revisionsOf(await readUntil(reader, head))).toEqual([head]);
  });

  it('hands over from the log to live changes with no gap and no duplicate, for streams opened while writes go on', async () => {
    const start = await headRevision(t, executor);
    const writes = addSecrets(t, 'HANDOVER', 60, 4);
    const streams: { after: number | undefined; reader: ChangeReader }[] = [];
    for (let i = 0; i < 8; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 60));
      const now = await headRevision(t, executor);
      const after = i === 0 ? undefined : start + Math.floor(Math.random() * (now - start + 1));
      streams.push({ after, reader: await open(executor, after === undefined ? {} : { query: `after=${after}` }) });
    }
    await writes;
    // One change after every stream is open: each has something to read, even one opened at the head.
    expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'HANDOVER_LAST', value: 'handover-last' } })).status).toBe(201);
    const head = await headRevision(t, executor);
    for (const { after, reader } of streams) {
      const got = revisionsOf(await readUntil(reader, head));
      expect(got).toEqual(range(after ?? got[0], head).slice(after === undefined ? 0 : 1));
    }
  });

  it('keys= keeps only those keys, still in order', async () => {
    const reader = await open(executor, { query: 'keys=FILTER_A,FILTER_C' });
    for (const key of ['FILTER_A', 'FILTER_B', 'FILTER_C', 'FILTER_B']) {
      await t.request(`/api/v1/secrets/${key}`, { method: 'DELETE' });
      await t.request('/api/v1/secrets', { method: 'POST', json: { key, value: 'filtered-value' } });
    }
    await expectEventually(() => expect(reader.changes().map((c) => c.key)).toEqual(['FILTER_A', 'FILTER_C']), 2_000);
  });

  it('a revoked token gets event: revoked and its streams close within a second', async () => {
    const issued = await t.app.get(TokensService).issue({ name: 'stream-revoked', role: 'executor', plugins: null }, SYSTEM_ACTOR);
    const [first, second] = [await open(issued.token), await open(issued.token, { query: 'after=0' })];
    const other = await open(executor);
    await expectEventually(() => expect(second.raw().length).toBeGreaterThan(0));
    const revoked = Date.now();
    expect((await t.request(`/api/v1/tokens/${issued.id}`, { method: 'DELETE' })).status).toBe(204);
    await Promise.all([first.closed, second.closed]);
    expect(Date.now() - revoked).toBeLessThan(1_000);
    for (const reader of [first, second]) expect(reader.events.at(-1)?.event).toBe('revoked');
    // Another token's stream goes on.
    expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'AFTER_REVOKE', value: 'after-revoke-value' } })).status).toBe(201);
    await expectEventually(() => expect(other.changes().map((c) => c.key)).toContain('AFTER_REVOKE'), 1_000);
    expect((await t.request('/api/v1/changes', { token: issued.token })).status).toBe(401);
  });

  it('carries no value, ciphertext or token: the raw bytes are searched, and the same search finds a value where one is', async () => {
    const reader = await open(executor, { query: 'after=0' });
    const values = await addSecrets(t, 'PLAIN', 5);
    const head = await headRevision(t, executor);
    await readUntil(reader, head);
    const raw = reader.raw();
    const ciphertexts = await withRawDatabase(t.config, (db) => db.all<{ ciphertext: Buffer }>('SELECT ciphertext FROM events WHERE ciphertext IS NOT NULL'));
    expect(ciphertexts.length).toBeGreaterThan(5);
    const forms = (secret: Buffer) => [secret, Buffer.from(secret.toString('base64')), Buffer.from(secret.toString('hex'))];
    const needles = [...values.map((v) => Buffer.from(v)), ...ciphertexts.flatMap((row) => forms(row.ciphertext)), Buffer.from(executor), Buffer.from(ADMIN_TOKEN)];
    const found = (haystack: Buffer) => needles.filter((needle) => haystack.includes(needle));
    expect(found(raw)).toEqual([]);
    // Positive controls: the keys are there (the bytes are the stream's), and a value would be found.
    expect(raw.includes(Buffer.from('PLAIN_4'))).toBe(true);
    const resolved = await t.request('/api/v1/resolve', { method: 'POST', token: executor, json: { plugin: 'p', keys: ['PLAIN_0'] } });
    expect(found(Buffer.from(await resolved.arrayBuffer()))).toEqual([Buffer.from(values.find((v) => v.startsWith('plain-value-0-'))!)]);
  });
});

/** The limits and the HTTP edge, on an app whose limits are small enough to reach. */
describe('the change stream at its limits', () => {
  const t = useTestApp({
    nats: NO_NATS,
    streams: { perToken: 2, total: 3, heartbeatMs: 200, maxUnsentBytes: 1024 * 1024 },
  });
  const data = tempDataDir();
  let edge: TestApp | undefined;
  const readers: ChangeReader[] = [];
  const open = async (baseUrl: string, token: string, options: Parameters<typeof openChangeReader>[2] = {}) => {
    const reader = await openChangeReader(baseUrl, token, options);
    readers.push(reader);
    return reader;
  };
  afterEach(() => readers.splice(0).forEach((reader) => reader.close()));
  afterAll(async () => {
    await edge?.close();
    data.cleanup();
  });

  it('past the streams of a token, then past the streams in all: 429 problem+json with Retry-After, and a RateLimited record', async () => {
    const tokens = t.app.get(TokensService);
    const [a, b] = [(await tokens.issue({ name: 'limit-a', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token, (await tokens.issue({ name: 'limit-b', role: 'auditor', plugins: null }, SYSTEM_ACTOR)).token];
    expect((await open(t.baseUrl, a)).status).toBe(200);
    expect((await open(t.baseUrl, a)).status).toBe(200);
    const perToken = await t.request('/api/v1/changes', { token: a });
    expect([perToken.status, perToken.headers.get('content-type'), perToken.headers.get('retry-after')]).toEqual([429, 'application/problem+json; charset=utf-8', '5']);
    expect((await open(t.baseUrl, b)).status).toBe(200);
    const total = await t.request('/api/v1/changes', { token: b });
    expect(total.status).toBe(429);
    expect(await total.json()).toMatchObject({ status: 429, detail: expect.stringMatching(/as many change streams/) });
    // Closing one frees its place.
    readers[0].close();
    await expectEventually(async () => {
      const again = await open(t.baseUrl, b);
      expect(again.status).toBe(200);
    });
    const records = await withRawDatabase(t.config, (db) => db.all<{ data: string }>("SELECT data FROM events WHERE type = 'RateLimited'"));
    expect(records.map((row) => JSON.parse(row.data).action)).toContain('GET /api/v1/changes');
  });

  it('outlives the idle, keep-alive and socket timeouts of the edge, with a comment line at least every heartbeat', async () => {
    const base = testConfig(data.dir);
    edge = await startTestApp(
      testConfig(data.dir, {
        nats: NO_NATS,
        http: { ...base.http, requestTimeoutMs: 600, headersTimeoutMs: 300, unauthenticatedIdleMs: 300, keepAliveTimeoutMs: 400 },
        streams: { ...base.streams, heartbeatMs: 250 },
      }),
    );
    const reader = await open(edge.baseUrl, ADMIN_TOKEN);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(reader.raw().toString().match(/^:$/gm)?.length ?? 0).toBeGreaterThanOrEqual(4);
    expect((await edge.request('/api/v1/secrets', { method: 'POST', json: { key: 'EDGE_LATE', value: 'edge-late-value' } })).status).toBe(201);
    await expectEventually(() => expect(reader.changes().map((c) => c.key)).toEqual(['EDGE_LATE']), 1_000);
  });
});
