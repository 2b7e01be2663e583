import { randomBytes } from 'node:crypto';
import { hashRow } from '../../src/event-store/hash-chain';
import type { EventRow } from '../../src/event-store/event';
import { rebuildReadModel } from '../../src/secrets/read-model-rebuild';
import { SecretsReadModel } from '../../src/secrets/secrets-read-model';
import { EventStore } from '../../src/event-store/event-store';
import { STORAGE, Storage } from '../../src/storage/sql';
import { countRows, placesHolding, withRawDatabase } from '../support/raw-database';
import { ADMIN_TOKEN, TestApp, startTestApp, tempDataDir, testConfig } from '../support/test-app';

// A value no test would produce by accident, so finding it anywhere means it leaked.
const plaintext = (label: string) => `plaintext-${label}-${randomBytes(12).toString('hex')}`;

describe('admin secrets API (on a real database)', () => {
  const data = tempDataDir();
  const config = testConfig(data.dir);
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(config);
  });
  afterAll(async () => {
    await t.close();
    data.cleanup();
  });

  const create = (key: string, value: string, description?: string) =>
    t.request('/api/v1/secrets', { method: 'POST', json: description === undefined ? { key, value } : { key, value, description } });

  const snapshot = async () => ({ events: await countRows(config, 'events'), secrets: await countRows(config, 'secrets') });

  it('adds a secret: 201 with metadata, Location and ETag, and never echoes the value', async () => {
    const value = plaintext('create');
    const res = await create('FIFTYONE_CVAT_URL', value, 'CVAT server');
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/api/v1/secrets/FIFTYONE_CVAT_URL');
    expect(res.headers.get('etag')).toBe('"1"');
    const body = await res.text();
    expect(body).not.toContain(value);
    expect(JSON.parse(body)).toEqual({
      key: 'FIFTYONE_CVAT_URL',
      description: 'CVAT server',
      version: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      createdBy: 'bootstrap-admin',
      updatedBy: 'bootstrap-admin',
    });
    const got = await t.request('/api/v1/secrets/FIFTYONE_CVAT_URL');
    expect(got.status).toBe(200);
    expect(got.headers.get('etag')).toBe('"1"');
  });

  describe('bad input is refused with problem+json and changes nothing', () => {
    const cases: [string, unknown][] = [
      ['a lower-case key', { key: 'my_key', value: 'v' }],
      ['a key starting with _', { key: '_A', value: 'v' }],
      ['a key with a double underscore', { key: 'A__B', value: 'v' }],
      ['a key ending in _', { key: 'A_', value: 'v' }],
      ['a key starting with a digit', { key: '1A', value: 'v' }],
      ['a 129-character key', { key: 'A'.repeat(129), value: 'v' }],
      ['an empty value', { key: 'EMPTY', value: '' }],
      ['a value over 65,536 UTF-8 bytes', { key: 'BIG', value: 'é'.repeat(32_769) }],
      ['a description over 1,000 characters', { key: 'DESC', value: 'v', description: 'd'.repeat(1_001) }],
      ['a missing value', { key: 'NOVALUE' }],
      ['a non-string value', { key: 'NUMBER', value: 42 }],
      ['an unknown field', { key: 'EXTRA', value: 'v', owner: 'bob' }],
      ['an array body', [{ key: 'ARRAY', value: 'v' }]],
    ];

    it.each(cases)('POST with %s: 400', async (_label, body) => {
      const before = await snapshot();
      const res = await t.request('/api/v1/secrets', { method: 'POST', json: body });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = await res.json();
      expect(problem).toMatchObject({ type: expect.any(String), title: 'Bad Request', status: 400, detail: expect.any(String) });
      expect(await snapshot()).toEqual(before);
    });

    it('names each offending field', async () => {
      const res = await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'bad', value: '', description: 'd'.repeat(1_001) } });
      expect((await res.json()).errors.map((e: { field: string }) => e.field)).toEqual(['key', 'value', 'description']);
    });

    it('a body over 256 KiB: 413', async () => {
      const before = await snapshot();
      const res = await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'HUGE', value: 'x'.repeat(300 * 1024) } });
      expect(res.status).toBe(413);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await snapshot()).toEqual(before);
    });

    it('malformed JSON: 400 without echoing the body', async () => {
      const value = plaintext('malformed');
      // An unquoted value: V8's JSON.parse quotes the text around the error in its message.
      for (const body of [`{"key":"K","value":"${value}"`, `{"key":"K","value":${value}}`]) {
        const res = await t.request('/api/v1/secrets', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(await res.text()).not.toContain(value);
      }
    });

    it('PATCH with nothing to change, or an unknown field, or a bad If-Match: 400', async () => {
      await create('PATCH_RULES', 'v1');
      const before = await snapshot();
      for (const [json, headers] of [
        [{}, {}],
        [{ value: 'x', colour: 'red' }, {}],
        [{ value: '' }, {}],
        [{ value: 'x' }, { 'if-match': 'W/"1"' }],
      ] as const) {
        const res = await t.request('/api/v1/secrets/PATCH_RULES', { method: 'PATCH', json, headers });
        expect(res.status).toBe(400);
      }
      expect(await snapshot()).toEqual(before);
    });

    it('an invalid key in the path: 400', async () => {
      expect((await t.request('/api/v1/secrets/not_a_key')).status).toBe(400);
    });
  });

  it('a duplicate add: 409, and the first value stays', async () => {
    expect((await create('DUPLICATE', 'first')).status).toBe(201);
    const before = await snapshot();
    const res = await create('DUPLICATE', 'second');
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ status: 409, title: 'Conflict' });
    expect(await snapshot()).toEqual(before);
  });

  it('unknown keys: 404 on get, patch, delete and history', async () => {
    expect((await t.request('/api/v1/secrets/NOPE')).status).toBe(404);
    expect((await t.request('/api/v1/secrets/NOPE', { method: 'PATCH', json: { value: 'x' } })).status).toBe(404);
    expect((await t.request('/api/v1/secrets/NOPE', { method: 'DELETE' })).status).toBe(404);
    expect((await t.request('/api/v1/secrets/NOPE/history')).status).toBe(404);
  });

  it('If-Match: a stale version is 412 and changes nothing; the current one is accepted', async () => {
    await create('OPTIMISTIC', 'v1');
    const ok = await t.request('/api/v1/secrets/OPTIMISTIC', { method: 'PATCH', json: { value: 'v2' }, headers: { 'if-match': '"1"' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe('"2"');
    const before = await snapshot();
    const stale = await t.request('/api/v1/secrets/OPTIMISTIC', { method: 'PATCH', json: { value: 'v3' }, headers: { 'if-match': '"1"' } });
    expect(stale.status).toBe(412);
    // In plain words, never the internal stream name (secret-OPTIMISTIC).
    expect(((await stale.json()) as { detail: string }).detail).toBe('Secret OPTIMISTIC is at version 2, not version 1 as expected; read it again and retry.');
    expect((await t.request('/api/v1/secrets/OPTIMISTIC', { method: 'DELETE', headers: { 'if-match': '"1"' } })).status).toBe(412);
    expect(await snapshot()).toEqual(before);
    expect((await t.request('/api/v1/secrets/OPTIMISTIC', { method: 'DELETE', headers: { 'if-match': '"2"' } })).status).toBe(204);
  });

  it('20 concurrent PATCHes against one version: exactly one 200 and nineteen 412s', async () => {
    await create('RACE', 'v1');
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.request('/api/v1/secrets/RACE', { method: 'PATCH', json: { value: `racer-${i}` }, headers: { 'if-match': '"1"' } }),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(19);
    const meta = await (await t.request('/api/v1/secrets/RACE')).json();
    expect(meta.version).toBe(2);
  });

  it('GET /secrets pages in key order with an opaque cursor; the pages add up to the whole list', async () => {
    for (const key of ['PAGE_A', 'PAGE_B', 'PAGE_C', 'PAGE_D', 'PAGE_E']) await create(key, 'v');
    const whole = (await (await t.request('/api/v1/secrets')).json()) as { items: { key: string }[]; next: string | null };
    expect(whole.next).toBeNull();
    const paged: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const query: string = after === null ? '?limit=2' : `?limit=2&after=${encodeURIComponent(after)}`;
      const page = (await (await t.request(`/api/v1/secrets${query}`)).json()) as { items: { key: string }[]; next: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      paged.push(...page.items.map((item) => item.key));
      after = page.next;
      pages++;
    } while (after !== null);
    expect(paged).toEqual(whole.items.map((item) => item.key));
    expect(pages).toBe(Math.ceil(whole.items.length / 2));
    expect(paged).toEqual([...paged].sort());
  });

  it.each([['?limit=0'], ['?limit=1001'], ['?limit=two'], ['?after=not-a-cursor'], ['?after=eyJrZXkiOiJsb3dlciJ9'], ['?sort=key'], ['?limit=1&limit=2']])(
    'GET /secrets%s: 400 problem+json',
    async (query) => {
      const res = await t.request(`/api/v1/secrets${query}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    },
  );

  it('50 concurrent creates all land, in one gap-free log', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `BULK_${i}`);
    const responses = await Promise.all(keys.map((key) => create(key, plaintext(key))));
    expect(responses.map((r) => r.status)).toEqual(keys.map(() => 201));
    const list = await (await t.request('/api/v1/secrets')).json();
    const listed = list.items.map((s: { key: string }) => s.key);
    expect(listed).toEqual(expect.arrayContaining(keys));
    expect(listed).toEqual([...listed].sort());
    const seqs = await withRawDatabase(config, (db) => db.all<{ seq: number }>('SELECT seq FROM events ORDER BY seq'));
    expect(seqs.map((r) => r.seq)).toEqual(seqs.map((_, i) => i + 1));
  });

  it('remove, then re-add: versions continue and history shows every step', async () => {
    await create('CYCLE', 'a', 'first');
    await t.request('/api/v1/secrets/CYCLE', { method: 'PATCH', json: { description: 'second' } });
    expect((await t.request('/api/v1/secrets/CYCLE', { method: 'DELETE' })).status).toBe(204);
    expect((await t.request('/api/v1/secrets/CYCLE')).status).toBe(404);
    const readded = await create('CYCLE', 'b');
    expect(readded.status).toBe(201);
    expect((await readded.json()).version).toBe(4);
    const history = await (await t.request('/api/v1/secrets/CYCLE/history')).json();
    expect(history.items.map((h: { version: number; type: string }) => [h.version, h.type])).toEqual([
      [1, 'SecretAdded'],
      [2, 'SecretUpdated'],
      [3, 'SecretRemoved'],
      [4, 'SecretAdded'],
    ]);
    expect(history.items[1]).toMatchObject({ description: 'second', valueChanged: false, actor: { name: 'bootstrap-admin', role: 'admin' } });
    await t.request('/api/v1/secrets/CYCLE', { method: 'PATCH', json: { value: 'c' } });
    const last = (await (await t.request('/api/v1/secrets/CYCLE/history')).json()).items.at(-1);
    expect(last).toMatchObject({ version: 5, type: 'SecretUpdated', valueChanged: true });
    expect(last).not.toHaveProperty('description');
  });

  it('the database itself refuses UPDATE and DELETE on the events table', async () => {
    await withRawDatabase(config, async (db) => {
      // Positive control: the row is there, so a refusal is the trigger's and not an empty match.
      expect(await db.countRows('events')).toBeGreaterThan(0);
      await expect(db.run("UPDATE events SET type = 'Forged' WHERE seq = 1")).rejects.toThrow(/append-only: UPDATE refused/);
      await expect(db.run('DELETE FROM events WHERE seq = 1')).rejects.toThrow(/append-only: DELETE refused/);
      expect(await db.get('SELECT type FROM events WHERE seq = 1')).not.toEqual({ type: 'Forged' });
    });
  });

  it('no plaintext value anywhere in the database (on SQLite: in the data dir, WAL included)', async () => {
    const values = [plaintext('scan-a'), plaintext('scan-b')];
    await create('SCAN_ME', values[0]);
    await t.request('/api/v1/secrets/SCAN_ME', { method: 'PATCH', json: { value: values[1] } });
    for (const value of values) expect(await placesHolding(config, value)).toEqual([]);
    // The search would find it if it were there: the key name is stored in plaintext.
    expect((await placesHolding(config, 'SCAN_ME')).length).toBeGreaterThan(0);
  });

  it('every row hash recomputes and chains to the one before', async () => {
    const rows = await withRawDatabase(config, (db) => db.all<EventRow>('SELECT * FROM events ORDER BY seq'));
    expect(rows.length).toBeGreaterThan(50);
    rows.forEach((row, i) => {
      const { hash, ...rest } = row;
      expect(hashRow(rest)).toBe(hash);
      if (i > 0) expect(row.prev_hash).toBe(rows[i - 1].hash);
    });
  });

  it('the read model rebuilt from the log alone equals the live one', async () => {
    const readModel = t.app.get(SecretsReadModel);
    const storage = t.app.get<Storage>(STORAGE);
    const snapshot = async () => ({ rows: await readModel.snapshot(storage.reader), revision: await readModel.revision(storage.reader) });
    const live = await snapshot();
    const result = await rebuildReadModel(storage, t.app.get(EventStore), readModel);
    expect(result.secrets).toBe(live.rows.length);
    expect(await snapshot()).toEqual(live);
  });

  it('a restart keeps every secret and version', async () => {
    const before = await (await t.request('/api/v1/secrets')).json();
    t = await t.restart();
    const after = await (await t.request('/api/v1/secrets')).json();
    expect(after).toEqual(before);
    expect(after.items.length).toBeGreaterThan(50);
  });

  it('a request without a token is 401 with WWW-Authenticate; an unknown token is 401', async () => {
    const none = await t.request('/api/v1/secrets', { token: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await t.request('/api/v1/secrets', { token: `${ADMIN_TOKEN}x` })).status).toBe(401);
  });
});

describe('pages served without a token', () => {
  const data = tempDataDir();
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(testConfig(data.dir));
  });
  afterAll(async () => {
    await t.close();
    data.cleanup();
  });

  it('serves the UI at /docs and the document at /docs-json without a token', async () => {
    const ui = await t.request('/docs', { token: null });
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
    const doc = await (await t.request('/docs-json', { token: null })).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/secrets', '/api/v1/secrets/{key}', '/api/v1/resolve']));
  });

  it('serves the console at / and its files under /console/, all under a strict content security policy', async () => {
    const page = await t.request('/', { token: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'.*script-src 'self'.*connect-src 'self'.*frame-ancestors 'none'/);
    // Positive control for the next check: the policy is read as sent.
    expect(csp).toContain("'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
    const html = await page.text();
    // Every script is a file from this origin: an inline one would be refused by the policy.
    expect(html.match(/<script[^>]*>/g)).toEqual(['<script src="/console/console.js" defer>']);
    for (const [file, type] of [
      ['console.js', /^text\/javascript/],
      ['console.css', /^text\/css/],
      ['icon.svg', /^image\/svg\+xml/],
    ] as const) {
      const res = await t.request(`/console/${file}`, { token: null });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(type);
      expect(res.headers.get('content-security-policy')).toBe(csp);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect((await t.request('/console/../package.json', { token: null })).status).toBe(404);
    expect((await t.request('/console/index.ts', { token: null })).status).toBe(404);
  });
});
