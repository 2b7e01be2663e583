import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { withRawDatabase } from '../support/raw-database';
import { Spelling, SpellingKind, SpelledResponse, sendSpelled, spellingOf } from '../support/spelled-request';
import { ADMIN_TOKEN, TestApp, startTestApp, tempDataDir, testConfig, testEngine, useTestApp } from '../support/test-app';
import { GENERATED_RUNS, LONG_TESTS, Operation, apiOperations } from '../support/api-operations';

/**
 * The HTTP edge decides from what the router routed, never from the raw URL (SPEC §3): every
 * spelling of an API path that reaches a controller — a percent-encoded prefix, the absolute form
 * — gets the same edge as the canonical one, and the spellings that reach none (repeated
 * slashes, dot segments) are refused alike. And text the database cannot store (a C0 control in
 * any field, query or path parameter) is a 400 by one rule, on both engines.
 *
 * Each generated case is sent twice, canonically and respelled: both answers are compared (status,
 * problem+json, `nosniff`, `no-store`), and neither may be a 5xx. Seeded: a failure replays.
 */
const RUNS = GENERATED_RUNS;
const LONG = LONG_TESTS;

type Defect = 'none' | 'no-token' | 'unknown-token' | 'unknown-token-large-body' | 'control-in-path' | 'control-in-query' | 'control-in-body' | 'empty-body' | 'null-body';
/** Refused before anything else: the answer does not depend on whether the route exists. */
const AUTH_DEFECTS: Defect[] = ['no-token', 'unknown-token', 'unknown-token-large-body'];

function defectsOf(op: Operation): Defect[] {
  const defects: Defect[] = ['no-token', 'unknown-token'];
  // Only reads are sent as they are: a write would change what the second send meets.
  if (op.method === 'GET') defects.push('none');
  if (op.pathParams.length > 0) defects.push('control-in-path');
  if (op.queryParams.length > 0) defects.push('control-in-query');
  if (op.hasBody) defects.push('unknown-token-large-body', 'control-in-body', 'empty-body', 'null-body');
  return defects;
}

/** A body of the route's shape whose one free-text member (never `value`) is `text`. */
function bodyWith(op: Operation, text: string): Record<string, unknown> {
  if (op.path.endsWith('/resolve')) return { plugin: text, keys: ['FUZZ_TARGET'] };
  if (op.path.endsWith('/tokens')) return { name: text, role: 'auditor' };
  if (op.path.endsWith('/rotate')) return { activeKid: text };
  if (op.method === 'PATCH') return { value: 'fuzz-value', description: text };
  return { key: 'FUZZ_NEW', value: 'fuzz-value', description: text };
}

/** Text with at least one C0 control (U+0000 included) somewhere in it. */
const controlText = fc
  .tuple(fc.string({ maxLength: 8 }), fc.integer({ min: 0, max: 0x1f }), fc.string({ maxLength: 8 }))
  .map(([a, code, b]) => `${a}${String.fromCharCode(code)}${b}`);

interface Case {
  op: Operation;
  defect: Defect;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const headerOf = (res: SpelledResponse, name: string) => [res.headers[name]].flat().join(', ');

/** What the edge promises of every answer to an API path, whoever gave it. */
function expectEdgeHeaders(res: SpelledResponse, where: string): void {
  if (res.status >= 500) throw new Error(`${where}: ${res.status} ${res.body.slice(0, 200)}`);
  if (headerOf(res, 'x-content-type-options') !== 'nosniff') throw new Error(`${where}: ${res.status} without nosniff`);
  if (headerOf(res, 'cache-control') !== 'no-store') throw new Error(`${where}: ${res.status} without Cache-Control: no-store`);
  if (res.status >= 400) {
    if (!/^application\/problem\+json/.test(headerOf(res, 'content-type'))) throw new Error(`${where}: ${res.status} is not problem+json`);
    if ((JSON.parse(res.body) as { status: number }).status !== res.status) throw new Error(`${where}: the problem's status differs`);
  }
}

describe(`every spelling of every API path, and C0 controls in every field (${RUNS} cases; SECRETS_LONG_TESTS=1 for more)`, () => {
  const t = useTestApp();
  let operations: Operation[];
  let tokenId: string;
  let host: string;

  beforeAll(async () => {
    host = new URL(t.baseUrl).host;
    expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'FUZZ_TARGET', value: 'fuzz-value' } })).status).toBe(201);
    tokenId = ((await (await t.request('/api/v1/tokens', { method: 'POST', json: { name: 'fuzz-auditor', role: 'auditor' } })).json()) as { id: string }).id;
    operations = await apiOperations(t.baseUrl);
  });

  const caseFor = (op: Operation): fc.Arbitrary<Case> =>
    fc
      .record({
        defect: fc.constantFrom(...defectsOf(op)),
        control: controlText,
        queryParam: fc.constantFrom(...(op.queryParams.length > 0 ? op.queryParams : ['limit'])),
        pathParam: fc.constantFrom(...(op.pathParams.length > 0 ? op.pathParams : ['key'])),
      })
      .map(({ defect, control, queryParam, pathParam }): Case => {
        const params: Record<string, string> = { key: 'FUZZ_TARGET', id: tokenId };
        const headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` };
        let query = '';
        let body: string | undefined = op.hasBody ? JSON.stringify(bodyWith(op, 'fuzz-text')) : undefined;
        switch (defect) {
          case 'none': break;
          case 'no-token': delete headers.authorization; break;
          case 'unknown-token': headers.authorization = `Bearer slt_${randomBytes(24).toString('hex')}`; break;
          case 'unknown-token-large-body':
            headers.authorization = `Bearer slt_${randomBytes(24).toString('hex')}`;
            body = JSON.stringify(bodyWith(op, 'x'.repeat(260 * 1024)));
            break;
          case 'control-in-path': params[pathParam] = `${params[pathParam]}${control}`; break;
          case 'control-in-query': query = `?${new URLSearchParams({ [queryParam]: control })}`; break;
          case 'control-in-body': body = JSON.stringify(bodyWith(op, control)); break;
          case 'empty-body': body = undefined; break;
          case 'null-body': body = 'null'; break;
        }
        if (body !== undefined || defect === 'empty-body') headers['content-type'] = 'application/json';
        const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name])) + query;
        return { op, defect, method: op.method, path, headers, body };
      });

  it('the route list comes from the OpenAPI document', () => {
    expect(operations.length).toBeGreaterThanOrEqual(14);
    expect(operations.filter((op) => op.hasBody)).toHaveLength(7);
  });

  it(`${RUNS} generated cases: the respelled answer is the canonical one, never a 5xx, always problem+json with nosniff and no-store`, async () => {
    const seenDefects = new Set<Defect>();
    const seenKinds = new Set<SpellingKind>();
    // The spelling is drawn for the case's own path (parameters and query filled in).
    const everyCase = fc
      .constantFrom(...operations)
      .chain(caseFor)
      .chain((c) => spellingOf(c.path, host).map((spelling): [Case, Spelling] => [c, spelling]));

    await fc.assert(
      fc.asyncProperty(everyCase, async ([c, spelling]) => {
        seenDefects.add(c.defect);
        spelling.kinds.forEach((kind) => seenKinds.add(kind));
        const where = `${c.defect} ${c.method} ${c.op.path} as ${spelling.target.slice(0, 120)}`;

        const canonical = await sendSpelled(t.baseUrl, c.method, c.path, c.headers, c.body);
        const respelled = await sendSpelled(t.baseUrl, c.method, spelling.target, c.headers, c.body);
        expectEdgeHeaders(canonical, `${where} (canonical)`);
        expectEdgeHeaders(respelled, where);

        if (c.defect !== 'none' && canonical.status < 400) throw new Error(`${where}: a defective request was answered ${canonical.status}`);
        if (c.defect.startsWith('control') || (c.defect.endsWith('-body') && !AUTH_DEFECTS.includes(c.defect))) {
          if (canonical.status !== 400) throw new Error(`${where}: ${canonical.status}, not 400: ${canonical.body.slice(0, 200)}`);
        }
        if (AUTH_DEFECTS.includes(c.defect)) {
          // Refused before the body, whatever the spelling and whether a route matches it.
          if (canonical.status !== 401 || respelled.status !== 401) throw new Error(`${where}: ${canonical.status} canonical, ${respelled.status} respelled, not 401`);
          if (headerOf(respelled, 'connection') !== 'close') throw new Error(`${where}: the refusal before the body keeps the connection`);
        } else if (spelling.routable) {
          if (respelled.status !== canonical.status) throw new Error(`${where}: ${respelled.status} respelled, ${canonical.status} canonical`);
        } else if (respelled.status < 400) {
          throw new Error(`${where}: a path no route matches was answered ${respelled.status}`);
        }
      }),
      { numRuns: RUNS, seed: 17, endOnFailure: true },
    );

    expect([...seenDefects].sort()).toEqual(['control-in-body', 'control-in-path', 'control-in-query', 'empty-body', 'no-token', 'none', 'null-body', 'unknown-token', 'unknown-token-large-body']);
    expect([...seenKinds].sort()).toEqual(['absolute-form', 'dot-dot-segment', 'dot-segment', 'percent-encoded', 'repeated-slash']);
  }, LONG ? 1_800_000 : 180_000);

  it('answers that carry a value or a token have no-store on every spelling (resolve, token issue)', async () => {
    const executor = ((await (await t.request('/api/v1/tokens', { method: 'POST', json: { name: 'fuzz-executor', role: 'executor' } })).json()) as { token: string }).token;
    const spellings = (path: string) => fc.sample(spellingOf(path, host).filter((s) => s.routable && s.kinds.length > 0), { numRuns: 10, seed: 17 });
    for (const spelling of spellings('/api/v1/resolve')) {
      const res = await sendSpelled(t.baseUrl, 'POST', spelling.target, { authorization: `Bearer ${executor}`, 'content-type': 'application/json' }, JSON.stringify({ plugin: 'p', keys: ['FUZZ_TARGET'] }));
      expect([spelling.target, res.status, headerOf(res, 'cache-control'), JSON.parse(res.body).secrets]).toEqual([spelling.target, 200, 'no-store', { FUZZ_TARGET: 'fuzz-value' }]);
    }
    for (const spelling of spellings('/api/v1/tokens')) {
      const res = await sendSpelled(t.baseUrl, 'POST', spelling.target, { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, JSON.stringify({ name: 'spelled', role: 'auditor' }));
      expect([spelling.target, res.status, headerOf(res, 'cache-control'), typeof JSON.parse(res.body).token]).toEqual([spelling.target, 201, 'no-store', 'string']);
    }
  });

  it('a value holding every C0 control, U+0000 included, round-trips byte for byte (it is stored only sealed)', async () => {
    const executor = ((await (await t.request('/api/v1/tokens', { method: 'POST', json: { name: 'c0-executor', role: 'executor' } })).json()) as { token: string }).token;
    const value = Array.from({ length: 0x20 }, (_, code) => `${String.fromCharCode(code)}c${code}`).join('') + '\u007f\u2028\u{1F511}';
    expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'CONTROL_VALUE', value } })).status).toBe(201);
    const resolved = (await (await t.request('/api/v1/resolve', { method: 'POST', token: executor, json: { plugin: 'p', keys: ['CONTROL_VALUE'] } })).json()) as { secrets: Record<string, string> };
    expect(Buffer.from(resolved.secrets.CONTROL_VALUE)).toEqual(Buffer.from(value));
    // …while the same text as a description is refused, naming the field and not the text.
    const refused = await t.request('/api/v1/secrets/CONTROL_VALUE', { method: 'PATCH', json: { description: value } });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ errors: [{ field: 'description', message: expect.stringMatching(/control character/) }] });
  });
});

describe('limits and refusal records on every spelling', () => {
  const FAILURES_PER_MINUTE = 20;
  const PER_MINUTE = 20;
  const data = tempDataDir();
  let t: TestApp;
  let operations: Operation[];

  beforeAll(async () => {
    const base = testConfig(data.dir);
    t = await startTestApp({ ...base, http: { ...base.http, rateLimitPerMinute: PER_MINUTE, authFailuresPerMinute: FAILURES_PER_MINUTE } });
    operations = await apiOperations(t.baseUrl);
  });
  afterAll(async () => {
    await t?.close();
    data.cleanup();
  });

  const events = (type: string) =>
    withRawDatabase(t.config, (db) => db.all<{ data: string; actor: string }>('SELECT data, actor FROM events WHERE type = ? ORDER BY seq', [type]));
  /** A recorded refusal counts itself and what was held back before it; a flushed count only what was held back. */
  const refusalsCounted = (rows: { data: string }[]) =>
    rows.map((row) => JSON.parse(row.data) as { suppressed: number; action?: string }).reduce((sum, data) => sum + data.suppressed + (data.action !== undefined ? 1 : 0), 0);

  it('the per-address failure limit, the per-token limit and the audit record hold on generated spellings alone', async () => {
    const host = new URL(t.baseUrl).host;
    const spelled = fc.sample(
      fc.constantFrom(...operations).chain((op) => spellingOf(op.path.replace(/\{(\w+)\}/g, 'x'), host).map((spelling) => ({ op, spelling }))).filter(({ spelling }) => spelling.kinds.length > 0),
      { numRuns: 3 * FAILURES_PER_MINUTE, seed: 17 },
    );
    const unauthenticated: SpelledResponse[] = [];
    for (const { op, spelling } of spelled) {
      unauthenticated.push(await sendSpelled(t.baseUrl, op.method, spelling.target, { authorization: `Bearer slt_guess${randomBytes(16).toString('hex')}` }));
    }
    expect(unauthenticated.map((res) => res.status)).toEqual([...Array(FAILURES_PER_MINUTE).fill(401), ...Array(2 * FAILURES_PER_MINUTE).fill(429)]);
    unauthenticated.forEach((res, i) => expectEdgeHeaders(res, spelled[i].spelling.target));
    expect(unauthenticated.filter((res) => res.status === 429).every((res) => Number(headerOf(res, 'retry-after')) >= 1)).toBe(true);

    const limited = ((await (await t.request('/api/v1/tokens', { method: 'POST', json: { name: 'limited', role: 'auditor' } })).json()) as { token: string }).token;
    const reads = fc.sample(spellingOf('/api/v1/whoami', host).filter((s) => s.routable && s.kinds.length > 0), { numRuns: 2 * PER_MINUTE, seed: 17 });
    const answers: SpelledResponse[] = [];
    for (const spelling of reads) answers.push(await sendSpelled(t.baseUrl, 'GET', spelling.target, { authorization: `Bearer ${limited}` }));
    expect(answers.map((res) => res.status)).toEqual([...Array(PER_MINUTE).fill(200), ...Array(PER_MINUTE).fill(429)]);
    answers.forEach((res, i) => expectEdgeHeaders(res, reads[i].target));

    // Stopping flushes what the recording bound held back: every refusal is counted.
    await t.stop();
    expect(refusalsCounted(await events('AuthenticationFailed'))).toBe(3 * FAILURES_PER_MINUTE);
    expect(refusalsCounted(await events('RateLimited'))).toBe(PER_MINUTE);
  });
});
