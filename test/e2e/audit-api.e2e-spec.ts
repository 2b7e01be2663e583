import { parse } from 'csv-parse/sync';
import { randomBytes } from 'node:crypto';
import type { AuditEntry } from '../../src/contract/api-types';
import { placesHolding } from '../support/raw-database';
import { ADMIN_TOKEN, useTestApp } from '../support/test-app';

describe('audit API', () => {
  const t = useTestApp();
  const value = `audit-plaintext-${randomBytes(12).toString('hex')}`;
  const newValue = `audit-plaintext-new-${randomBytes(12).toString('hex')}`;
  let auditor: { id: string; token: string };
  let executor: { id: string; token: string };

  beforeAll(async () => {
    const issue = async (name: string, role: string) => (await t.request('/api/v1/tokens', { method: 'POST', json: { name, role } })).json();
    auditor = await issue('reviewer', 'auditor');
    executor = await issue('runner', 'executor');
    await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'CVAT_PASSWORD', value } });
    await t.request('/api/v1/secrets/CVAT_PASSWORD', { method: 'PATCH', json: { value: newValue } });
    await t.request('/api/v1/resolve', { method: 'POST', token: executor.token, json: { plugin: 'p', keys: ['CVAT_PASSWORD'] } });
    await t.request('/api/v1/secrets', { method: 'POST', token: executor.token, json: { key: 'NOPE', value: 'x' } });
    await t.request('/api/v1/secrets/CVAT_PASSWORD', { method: 'DELETE' });
    const shortLived = await issue('short-lived', 'auditor');
    await t.request(`/api/v1/tokens/${shortLived.id}`, { method: 'DELETE' });
  });

  const audit = (query = '', token = auditor.token) => t.request(`/api/v1/audit${query}`, { token });
  const all = async (query = ''): Promise<AuditEntry[]> => (await (await audit(`?limit=1000${query}`)).json()).items;

  it('holds every write, read and refusal with its actor and time, and never a value', async () => {
    const entries = await all();
    const admin = { id: expect.stringMatching(/^tok_/), name: 'bootstrap-admin', role: 'admin' };
    const at = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/);
    expect(entries.map((e) => e.type)).toEqual([
      'TokenIssued', // bootstrap admin
      'TokenIssued',
      'TokenIssued',
      'SecretAdded',
      'SecretUpdated',
      'SecretsResolved',
      'AccessDenied',
      'SecretRemoved',
      'TokenIssued',
      'TokenRevoked',
    ]);
    expect(entries[3]).toMatchObject({ key: 'CVAT_PASSWORD', version: 1, actor: admin, at });
    expect(entries[4]).toMatchObject({ key: 'CVAT_PASSWORD', version: 2, actor: admin, at, data: { valueChanged: true } });
    expect(entries[5]).toMatchObject({
      actor: { id: executor.id, name: 'runner', role: 'executor' },
      at,
      data: { plugin: 'p', keys: [{ key: 'CVAT_PASSWORD', version: 2 }] },
    });
    expect(entries[6]).toMatchObject({ actor: { id: executor.id, role: 'executor' }, at, data: { action: 'POST /api/v1/secrets' } });
    expect(entries[7]).toMatchObject({ key: 'CVAT_PASSWORD', version: 3, actor: admin, at });
    expect(entries[1].key).toBeUndefined();
    const revokedId = (entries[8].data as { id: string }).id;
    expect(entries[9]).toMatchObject({ type: 'TokenRevoked', actor: admin, at, data: { id: revokedId } });

    // The search would find a value if it were there: the key name is stored in plaintext.
    expect((await placesHolding(t.config, 'CVAT_PASSWORD')).length).toBeGreaterThan(0);
    for (const needle of [value, newValue]) {
      expect(JSON.stringify(entries)).not.toContain(needle);
      expect(await placesHolding(t.config, needle)).toEqual([]);
      for (const format of ['ndjson', 'csv']) expect(await (await audit(`/export?format=${format}`)).text()).not.toContain(needle);
    }
  });

  it('pages forward without gaps or repeats, whatever the page size', async () => {
    const everything = (await all()).map((e) => e.seq);
    expect(everything).toEqual(Array.from({ length: everything.length }, (_, i) => i + 1));
    for (const limit of [1, 3, 7]) {
      const seen: number[] = [];
      let next: string | null = null;
      do {
        const res = await audit(`?limit=${limit}${next ? `&after=${next}` : ''}`);
        const page = await res.json();
        expect(page.items.length).toBeLessThanOrEqual(limit);
        seen.push(...page.items.map((e: AuditEntry) => e.seq));
        next = page.next;
      } while (next !== null);
      expect(seen).toEqual(everything);
    }
  });

  it('pages newest first (order=desc) without gaps or repeats, filtered or not, and starts at a given seq', async () => {
    // `first` places the first page only: a cursor carries the position after that.
    const walk = async (query: string, limit: number, first = ''): Promise<number[]> => {
      const seen: number[] = [];
      let next: string | null = null;
      do {
        const page = await (await audit(`?order=desc&limit=${limit}${query}${next ? `&after=${next}` : first}`)).json();
        expect(page.items.length).toBeLessThanOrEqual(limit);
        seen.push(...page.items.map((e: AuditEntry) => e.seq));
        next = page.next;
      } while (next !== null);
      return seen;
    };
    const everything = (await all()).map((e) => e.seq);
    for (const limit of [1, 3, 7]) expect(await walk('', limit)).toEqual([...everything].reverse());
    const byExecutor = (await all(`&actor=${executor.id}`)).map((e) => e.seq);
    expect(byExecutor.length).toBeGreaterThan(1);
    expect(await walk(`&actor=${executor.id}`, 1)).toEqual([...byExecutor].reverse());
    // `start` begins the page at that seq, in either order.
    const middle = everything[Math.floor(everything.length / 2)];
    expect(await walk('', 2, `&start=${middle}`)).toEqual(everything.filter((s) => s <= middle).reverse());
    const ascending = (await (await audit(`?start=${middle}&limit=1000`)).json()).items.map((e: AuditEntry) => e.seq);
    expect(ascending).toEqual(everything.filter((s) => s >= middle));
  });

  it('filters by type, key, actor id and time', async () => {
    const entries = await all();
    expect((await all('&type=SecretsResolved')).map((e) => e.seq)).toEqual([entries[5].seq]);
    // A key's trail holds its changes and the resolve that read it.
    expect((await all('&key=CVAT_PASSWORD')).map((e) => e.type)).toEqual(['SecretAdded', 'SecretUpdated', 'SecretsResolved', 'SecretRemoved']);
    expect((await all(`&actor=${executor.id}`)).map((e) => e.type)).toEqual(['SecretsResolved', 'AccessDenied']);
    // `from` and `to` split the trail at one instant: each side exactly the entries it names, and
    // neither side empty (`from` holds entries[4] itself; the bootstrap token was issued before
    // the first secret was written).
    const from = entries[4].at;
    const seqs = (list: AuditEntry[]) => list.map((e) => e.seq);
    const fromOn = seqs(await all(`&from=${encodeURIComponent(from)}`));
    const before = seqs(await all(`&to=${encodeURIComponent(from)}`));
    expect(fromOn).toEqual(seqs(entries.filter((e) => e.at >= from)));
    expect(before).toEqual(seqs(entries.filter((e) => e.at < from)));
    expect(before).toContain(entries[0].seq);
    expect(await all('&type=SecretAdded&actor=nobody')).toEqual([]);
  });

  it('exports the same events as NDJSON and CSV', async () => {
    const ndjsonRes = await audit('/export?format=ndjson');
    expect(ndjsonRes.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const ndjson: AuditEntry[] = (await ndjsonRes.text()).trim().split('\n').map((line) => JSON.parse(line));
    const csvRes = await audit('/export?format=csv');
    expect(csvRes.headers.get('content-type')).toMatch(/^text\/csv/);
    const csv: Record<string, string>[] = parse(await csvRes.text(), { columns: true });
    expect(ndjson).toEqual(await all());
    expect(csv.map((row) => ({ seq: Number(row.seq), id: row.id, type: row.type, actor: row.actor_id, data: JSON.parse(row.data), hash: row.hash }))).toEqual(
      ndjson.map((e) => ({ seq: e.seq, id: e.id, type: e.type, actor: e.actor.id, data: e.data, hash: e.hash })),
    );
    const filtered = (await (await audit('/export?format=csv&type=SecretAdded')).text()).trim().split('\n');
    expect(filtered).toHaveLength(2); // header + one row
  });

  it.each([
    ['?limit=0'],
    ['?limit=1001'],
    ['?limit=ten'],
    ['?after=not-a-cursor'],
    ['?from=yesterday'],
    ['?to=2026-13-45T00:00:00Z'],
    ['?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z'],
    ['?key=lower_case'],
    ['?type=Not A Type'],
    ['?type=A&type=B'],
    ['?unknown=1'],
    ['?order=newest'],
    ['?start=0'],
    ['?start=abc'],
    ['?start=3&after=eyJzZXEiOjJ9'],
    ['/export?format=xml'],
    ['/export?limit=5'],
  ])('%s: 400 problem+json', async (query) => {
    const res = await audit(query);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await res.json()).errors.length).toBeGreaterThan(0);
  });

  it('an event type nobody records is a 400 that names the known types, not an empty page', async () => {
    const res = await audit('?type=SecretAddedd');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { field: string; message: string }[] };
    expect(body.errors).toEqual([{ field: 'type', message: expect.stringContaining('SecretAdded, SecretUpdated, SecretRemoved, SecretsResolved, AccessDenied, AuthenticationFailed') }]);
    expect((await audit('/export?type=Nope')).status).toBe(400);
  });

  it('CSV cells that a spreadsheet would run as formulas are neutralised (OWASP: a leading quote)', async () => {
    // Names the API stores (a tab, a CR or a line break in a name is refused at the edge; the
    // unit test test/unit/csv-formula.spec.ts covers those cells): formula starts, also after
    // leading spaces, in fullwidth forms, and the pipe.
    const names = ['=HYPERLINK("http://example.invalid","x")', '+1+1', '-2+3', '@SUM(A1)', ' =1+1', '\u00a0 @SUM(A1)', '\uFF1D1+1', '\uFF0B1', '\uFF0D1', '\uFF20SUM(A1)', '|cmd', '\uFF5Ccmd'];
    for (const name of names) {
      const issued = (await (await t.request('/api/v1/tokens', { method: 'POST', json: { name, role: 'auditor' } })).json()) as { token: string };
      // A refused write: the token's name becomes the actor_name cell of an AccessDenied row.
      expect((await t.request('/api/v1/tokens', { token: issued.token })).status).toBe(403);
    }
    const rows: Record<string, string>[] = parse(await (await audit('/export?format=csv&type=AccessDenied')).text(), { columns: true, relax_quotes: true });
    const actorNames = rows.map((row) => row.actor_name);
    expect(actorNames).toEqual(expect.arrayContaining(names.map((name) => `'${name}`)));
    for (const row of rows) for (const cell of Object.values(row)) expect(cell).not.toMatch(/^(?:[\t\r]|\s*[=+\-@|\uFF1D\uFF0B\uFF0D\uFF20\uFF5C])/);
    // Positive control: the names are stored as given, and the NDJSON export carries them untouched.
    const ndjson = (await (await audit('/export?format=ndjson&type=AccessDenied')).text()).trim().split('\n').map((line) => JSON.parse(line) as AuditEntry);
    expect(ndjson.map((e) => e.actor.name)).toEqual(expect.arrayContaining(names));
  });

  it('head and verify agree on an intact chain', async () => {
    const head = await (await audit('/head')).json();
    const entries = await all();
    const last = entries[entries.length - 1];
    expect(head).toEqual({ seq: last.seq, hash: last.hash, at: last.at });
    expect(await (await audit('/verify')).json()).toEqual({ ok: true, checked: entries.length, head: { seq: last.seq, hash: last.hash }, disagreements: [] });
    expect((await (await t.request('/health/ready', { token: null })).json()).info.auditChain).toMatchObject({ status: 'up' });
  });

  it('admins may read the trail too', async () => {
    expect((await audit('', ADMIN_TOKEN)).status).toBe(200);
  });

  it("a key's trail shows every resolve that asked for it, found or missing, combined with the other filters and paged", async () => {
    const resolve = (keys: string[]) => t.request('/api/v1/resolve', { method: 'POST', token: executor.token, json: { plugin: 'p', keys } });
    expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'TRAIL_KEY', value: 'trail-v1' } })).status).toBe(201);
    for (const keys of [['TRAIL_KEY'], ['OTHER_KEY'], ['OTHER_KEY', 'TRAIL_KEY', 'NEVER_STORED'], ['NEVER_STORED']]) expect((await resolve(keys)).status).toBe(200);

    const trail = await all('&key=TRAIL_KEY');
    expect(trail.map((e) => e.type)).toEqual(['SecretAdded', 'SecretsResolved', 'SecretsResolved']);
    expect(trail[2].data).toMatchObject({ keys: [{ key: 'TRAIL_KEY', version: 1 }], missing: ['OTHER_KEY', 'NEVER_STORED'] });
    // A key that was never stored has a trail too: the attempts to read it.
    expect((await all('&key=NEVER_STORED')).map((e) => e.seq)).toEqual([trail[2].seq, trail[2].seq + 1]);
    expect((await all(`&key=TRAIL_KEY&actor=${executor.id}`)).map((e) => e.seq)).toEqual([trail[1].seq, trail[2].seq]);
    expect((await all('&key=TRAIL_KEY&type=SecretAdded')).map((e) => e.seq)).toEqual([trail[0].seq]);
    // Both resolves are at or after the first one's time; the SecretAdded only if it shares that millisecond.
    expect((await all(`&key=TRAIL_KEY&from=${encodeURIComponent(trail[1].at)}`)).map((e) => e.seq)).toEqual(
      trail.filter((e) => e.at >= trail[1].at).map((e) => e.seq),
    );

    const paged: number[] = [];
    let next: string | null = null;
    do {
      const page = await (await audit(`?key=TRAIL_KEY&limit=1${next ? `&after=${next}` : ''}`)).json();
      paged.push(...page.items.map((e: AuditEntry) => e.seq));
      next = page.next;
    } while (next !== null);
    expect(paged).toEqual(trail.map((e) => e.seq));
    const exported = (await (await audit('/export?format=ndjson&key=TRAIL_KEY')).text()).trim().split('\n').map((line) => JSON.parse(line).seq);
    expect(exported).toEqual(paged);
  });

  it("a refused read is in the trail of each key it asked for", async () => {
    const restricted = await (await t.request('/api/v1/tokens', { method: 'POST', json: { name: 'narrow', role: 'executor', plugins: ['only-this'] } })).json();
    const res = await t.request('/api/v1/resolve', { method: 'POST', token: restricted.token, json: { plugin: 'another', keys: ['REFUSED_KEY', 'TRAIL_KEY'] } });
    expect(res.status).toBe(403);
    for (const key of ['REFUSED_KEY', 'TRAIL_KEY']) {
      const last = (await all(`&key=${key}`)).at(-1);
      expect(last).toMatchObject({ type: 'AccessDenied', actor: { id: restricted.id }, data: { action: 'resolve another', keys: ['REFUSED_KEY', 'TRAIL_KEY'] } });
    }
  });
});
