import Database from 'better-sqlite3';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startServe, stop } from '../support/cli';
import { tempDataDir } from '../support/test-app';
import { GENERATED_RUNS, LONG_TESTS, Operation, apiOperations } from '../support/api-operations';

/**
 * Issue 11's property: whatever a client sends to any route — bodies, content types, query
 * strings, path parameters, headers — a request that is wrong in at least one way gets a 4xx
 * problem+json (never a 5xx, never another content type), no generated string comes back in any
 * response or log line, and neither the log nor the read model changes (refusals aside: they are
 * counted, with a bound, as audit events).
 *
 * The routes come from the service's OpenAPI document, so a new route cannot be forgotten. The
 * service runs as `serve` at LOG_LEVEL=trace, its whole output captured. Every generated string
 * holds a fresh nonce (`nz` + 16 hex digits), so a hit is a real echo, not chance.
 */
const RUNS = GENERATED_RUNS;
const LONG = LONG_TESTS;

type Defect =
  | 'no-token'
  | 'unknown-token'
  | 'malformed-authorization'
  | 'revoked-token'
  | 'wrong-content-type'
  | 'no-content-type'
  | 'malformed-json'
  | 'too-deep'
  | 'lone-surrogate'
  | 'not-an-object'
  | 'unknown-member'
  | 'wrong-types'
  | 'null-member'
  | 'oversize'
  | 'invalid-path-parameter'
  | 'unknown-query-parameter'
  | 'bad-query-value'
  | 'bad-if-match';

const AUTH_DEFECTS: Defect[] = ['no-token', 'unknown-token', 'malformed-authorization', 'revoked-token'];
const BODY_DEFECTS: Defect[] = ['wrong-content-type', 'no-content-type', 'malformed-json', 'too-deep', 'lone-surrogate', 'not-an-object', 'unknown-member', 'wrong-types', 'null-member', 'oversize'];

/** Which defects make a request to this operation certainly wrong, whatever else it carries. */
function defectsOf(op: Operation): Defect[] {
  const defects = [...AUTH_DEFECTS];
  if (op.hasBody) defects.push(...BODY_DEFECTS);
  if (op.pathParams.length > 0) defects.push('invalid-path-parameter');
  // Routes that take query parameters refuse unknown ones and bad values.
  if (op.queryParams.length > 0) defects.push('unknown-query-parameter', 'bad-query-value');
  if (op.path === '/api/v1/secrets/{key}' && (op.method === 'PATCH' || op.method === 'DELETE')) defects.push('bad-if-match');
  return defects;
}

const nonce = () => `nz${randomBytes(8).toString('hex')}`;
/** A generated string: a nonce somewhere inside arbitrary text. */
const fuzzText = (unit: 'grapheme' | 'binary' = 'grapheme') =>
  fc.tuple(fc.string({ unit, maxLength: 24 }), fc.string({ unit, maxLength: 24 })).map(([a, b]) => `${a}${nonce()}${b}`);
/** Printable ASCII around a nonce: what a header value may hold. */
const headerText = fc.tuple(fc.string({ unit: fc.constantFrom(...' !#$%&*+-.^_`|~abcXYZ0189'.split('')), maxLength: 16 })).map(([a]) => `${a}${nonce()}`);
/** A member or parameter name that is not a plain identifier, so SPEC §3 forbids naming it. */
const foreignName = fuzzText().map((text) => `-${text}`);

interface Case {
  op: Operation;
  defect: Defect;
  request: { method: string; url: string; headers: Record<string, string>; body?: string | Uint8Array<ArrayBuffer> };
  /** Every generated string the request carries: none may come back. */
  needles: string[];
}

function findNeedles(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') for (const match of value.matchAll(/nz[0-9a-f]{16}/g)) into.push(match[0]);
  else if (Array.isArray(value)) value.forEach((item) => findNeedles(item, into));
  else if (typeof value === 'object' && value !== null) Object.entries(value).forEach(([name, item]) => (findNeedles(name, into), findNeedles(item, into)));
  return into;
}

describe(`every HTTP route under generated bad input (${RUNS} cases; SECRETS_LONG_TESTS=1 for more)`, () => {
  const data = tempDataDir();
  let child: ChildProcess;
  let url: string;
  let output: () => string;
  let adminToken: string;
  let revokedToken: string;
  let victimTokenId: string;
  let operations: Operation[];
  const storedValue = `stored-${nonce()}`;

  const api = (path: string, init: RequestInit = {}, token = adminToken) =>
    fetch(url + path, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers as object) } });

  /** The state no refused request may change: every non-refusal event, the read model, the tokens. */
  const state = () => {
    const db = new Database(join(data.dir, 'secrets.db'), { readonly: true });
    try {
      return {
        events: db.prepare("SELECT seq, hash FROM events WHERE type NOT IN ('AuthenticationFailed', 'AccessDenied', 'RateLimited') ORDER BY seq").all(),
        secrets: db.prepare('SELECT * FROM secrets ORDER BY key').all(),
        tokens: db.prepare('SELECT * FROM tokens ORDER BY id').all(),
        counters: db.prepare('SELECT * FROM ledger_counters ORDER BY name').all(),
      };
    } finally {
      db.close();
    }
  };
  const refusalEvents = () => {
    const db = new Database(join(data.dir, 'secrets.db'), { readonly: true });
    try {
      return (db.prepare("SELECT COUNT(*) AS n FROM events WHERE type IN ('AuthenticationFailed', 'AccessDenied', 'RateLimited')").get() as { n: number }).n;
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    // No SECRETS_ADMIN_TOKEN: the generated one is printed once, which is the positive control
    // that the captured output is searchable.
    const started = await startServe({
      SECRETS_DATA_DIR: data.dir,
      LOG_LEVEL: 'trace',
      SECRETS_RATE_LIMIT_PER_MINUTE: '10000000',
      SECRETS_AUTH_FAILURES_PER_MINUTE: '10000000',
    });
    child = started.child;
    url = started.url;
    output = started.output;
    adminToken = /^\s+(slt_\S+)$/m.exec(started.stdout)![1];

    expect((await api('/api/v1/secrets', { method: 'POST', body: JSON.stringify({ key: 'FUZZ_TARGET', value: storedValue }) })).status).toBe(201);
    const issue = async (role: string) => (await (await api('/api/v1/tokens', { method: 'POST', body: JSON.stringify({ name: `fuzz-${role}`, role }) })).json()) as { id: string; token: string };
    const revoked = await issue('admin');
    expect((await api(`/api/v1/tokens/${revoked.id}`, { method: 'DELETE' })).status).toBe(204);
    revokedToken = revoked.token;
    victimTokenId = (await issue('auditor')).id;

    operations = await apiOperations(url);
  });
  afterAll(async () => {
    if (child) await stop(child);
    data.cleanup();
  });

  it('the route list comes from the OpenAPI document and covers every method with a body', () => {
    expect(operations.length).toBeGreaterThanOrEqual(14);
    expect(operations.filter((op) => op.hasBody).map((op) => `${op.method} ${op.path}`).sort()).toEqual(
      [
        'PATCH /api/v1/secrets/{key}',
        'POST /api/v1/audit/verify',
        'POST /api/v1/master-keys/rotate',
        'POST /api/v1/resolve',
        'POST /api/v1/secrets',
        'POST /api/v1/secrets/{key}/rollback',
        'POST /api/v1/tokens',
      ].sort(),
    );
  });

  it('positive controls: the searches find a string where it is legitimately present', async () => {
    // The output search: the generated admin token was printed once at start.
    expect(output()).toContain(adminToken);
    // The response search: an executor's resolve carries the stored value and its nonce.
    const executor = (await (await api('/api/v1/tokens', { method: 'POST', body: JSON.stringify({ name: 'fuzz-executor', role: 'executor' }) })).json()) as { token: string };
    const resolved = await (await api('/api/v1/resolve', { method: 'POST', body: JSON.stringify({ plugin: 'fuzz', keys: ['FUZZ_TARGET'] }) }, executor.token)).text();
    const needles = findNeedles(storedValue);
    expect(needles).toHaveLength(1);
    expect(resolved).toContain(needles[0]);
  });

  it(`${RUNS} generated bad requests: 4xx problem+json, nothing echoed or logged, nothing changed`, async () => {
    const before = state();
    const refusalsBefore = refusalEvents();
    const started = Date.now();
    const allNeedles: string[] = [];

    const bodyFor = (op: Operation) =>
      op.path === '/api/v1/resolve'
        ? fc.record({ plugin: fuzzText(), keys: fc.array(fuzzText(), { maxLength: 3 }) })
        : op.path === '/api/v1/tokens'
          ? fc.record({ name: fuzzText(), role: fc.constantFrom('admin', 'auditor', 'executor') })
          : op.method === 'PATCH'
            ? fc.record({ value: fuzzText('binary'), description: fuzzText() }, { requiredKeys: [] })
            : fc.record({ key: fc.constantFrom('FUZZ_NEW', 'FUZZ_TARGET'), value: fuzzText('binary'), description: fuzzText() }, { requiredKeys: ['key', 'value'] });

    const caseFor = (op: Operation) =>
      fc
        .record({
          defect: fc.constantFrom(...defectsOf(op)),
          body: bodyFor(op),
          junkHeaders: fc.dictionary(fc.constantFrom('x-fuzz-a', 'x-fuzz-b', 'accept', 'x-forwarded-for', 'user-agent'), headerText, { maxKeys: 3 }),
          junkQuery: fc.array(fc.tuple(foreignName, fuzzText()), { maxLength: 2 }),
          foreignName,
          text: fuzzText('binary'),
          header: headerText,
          contentType: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/xml', 'application/jsonx'),
          notAnObject: fc.constantFrom('null', '[]', '"s"', '1', 'true', '[{}]'),
          wrongValue: fc.oneof(fc.integer(), fc.boolean(), fc.constant([]), fc.constant({})),
          depth: fc.integer({ min: 33, max: 3000 }),
          // Any text is a valid actor id (it matches nothing): the one parameter left out here.
          queryParam: fc.constantFrom(...op.queryParams.filter((name) => name !== 'actor'), 'limit'),
        })
        .map((g): Case => {
          const body: Record<string, unknown> = { ...g.body };
          const headers: Record<string, string> = { ...g.junkHeaders, authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
          const params: Record<string, string> = { key: 'FUZZ_TARGET', id: victimTokenId };
          const query = new URLSearchParams(op.queryParams.length > 0 ? [] : g.junkQuery);
          let raw: string | undefined;
          let bytes = false;
          switch (g.defect) {
            case 'no-token': delete headers.authorization; break;
            case 'unknown-token': headers.authorization = `Bearer slt_${nonce()}${nonce()}`; break;
            case 'malformed-authorization': headers.authorization = g.header; break;
            case 'revoked-token': headers.authorization = `Bearer ${revokedToken}`; break;
            case 'wrong-content-type': headers['content-type'] = g.contentType; break;
            case 'no-content-type': delete headers['content-type']; bytes = true; break; // fetch adds no type to bytes
            case 'malformed-json': raw = JSON.stringify(body).slice(0, -1) + `,"${g.text.replace(/"/g, '')}`; break;
            case 'too-deep': raw = `{"${g.foreignName.replace(/["\\]/g, '')}":` + '['.repeat(g.depth) + JSON.stringify(g.text) + ']'.repeat(g.depth) + '}'; break;
            case 'lone-surrogate': raw = JSON.stringify(body).slice(0, -1) + `,"value":"${nonce()}\\ud800"}`; break;
            case 'not-an-object': raw = g.notAnObject.replace('s', nonce()); break;
            case 'unknown-member': body[g.foreignName] = g.text; break;
            case 'wrong-types': body[Object.keys(body)[0] ?? 'value'] = g.wrongValue; break;
            case 'null-member': body[Object.keys(body)[0] ?? 'value'] = null; break;
            case 'oversize': body.description = `${nonce()}${'x'.repeat(260 * 1024)}`; break;
            case 'invalid-path-parameter': params.key = g.text.toLowerCase(); params.id = g.text; break;
            case 'unknown-query-parameter': query.append(g.foreignName, g.text); break;
            case 'bad-query-value': query.append(g.queryParam, g.text); break;
            case 'bad-if-match': headers['if-match'] = g.header; break;
          }
          const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name]));
          const search = query.toString();
          if (op.hasBody && raw === undefined) raw = JSON.stringify(body);
          if (!op.hasBody && g.defect !== 'no-content-type') delete headers['content-type'];
          const request = { method: op.method, url: `${path}${search ? `?${search}` : ''}`, headers, body: raw !== undefined && bytes ? new Uint8Array(Buffer.from(raw)) : raw };
          const needles = findNeedles([request.url, headers, raw ?? '']);
          // The nonce inside a percent-encoded path or query is the same text: findNeedles sees it.
          return { op, defect: g.defect, request, needles };
        });

    const everyCase = fc.constantFrom(...operations).chain(caseFor);
    const seenDefects = new Set<string>();
    const seenRoutes = new Set<string>();

    await fc.assert(
      fc.asyncProperty(everyCase, async ({ op, defect, request, needles }) => {
        seenDefects.add(defect);
        seenRoutes.add(`${op.method} ${op.path}`);
        allNeedles.push(...needles);
        const res = await fetch(url + request.url, { method: request.method, headers: request.headers, body: request.body });
        const text = await res.text();
        const where = `${defect} ${request.method} ${op.path}`;
        if (res.status < 400 || res.status >= 500) throw new Error(`${where}: ${res.status} ${text.slice(0, 200)}`);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        const problem = JSON.parse(text);
        expect(problem.status).toBe(res.status);
        let headerText = '';
        res.headers.forEach((value, name) => (headerText += `${name}: ${value}\n`));
        const echoed = needles.filter((needle) => text.includes(needle) || headerText.includes(needle));
        if (echoed.length > 0) throw new Error(`${where}: the response echoes generated input: ${text.slice(0, 300)}`);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );

    expect(allNeedles.length).toBeGreaterThan(RUNS);
    expect(seenRoutes.size).toBe(operations.length);
    expect(seenDefects.size).toBe(AUTH_DEFECTS.length + BODY_DEFECTS.length + 4);

    const log = output();
    const logged = allNeedles.filter((needle) => log.includes(needle));
    expect(logged).toEqual([]);

    expect(state()).toEqual(before);
    // Refusals are counted, with a bound: per source, 10 recorded a minute plus the one count
    // the minute's flush writes for what was held back. Two sources here: the client address
    // (AuthenticationFailed) and the admin token, whose resolves the role check refuses before
    // their bodies are validated (AccessDenied).
    const minutes = Math.ceil((Date.now() - started) / 60_000) + 1;
    expect(refusalEvents() - refusalsBefore).toBeLessThanOrEqual(2 * (10 + 1) * minutes);
  }, LONG ? 1_800_000 : 240_000);
});
