import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { countRows } from '../support/raw-database';
import { expectEventually } from '../support/expect-eventually';
import { rawRequest } from '../support/raw-http';
import { ADMIN_TOKEN, startTestApp, tempDataDir, testConfig, useTestApp } from '../support/test-app';

const PROBLEM = /^application\/problem\+json/;

/** What must hold of every error answer (SPEC §3). */
async function expectProblem(res: Response, status: number, mustNotContain: string[] = []): Promise<{ detail: string; errors?: { field: string }[] }> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(PROBLEM);
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  const text = await res.text();
  for (const needle of mustNotContain) expect(text).not.toContain(needle);
  const body = JSON.parse(text);
  expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
  return body;
}

describe('the HTTP edge', () => {
  const t = useTestApp();
  const secretCount = () => countRows(t.config, 'secrets');
  const post = (body: string | Buffer, contentType?: string, token: string | null = ADMIN_TOKEN) =>
    fetch(`${t.baseUrl}/api/v1/secrets`, {
      method: 'POST',
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(contentType ? { 'content-type': contentType } : {}) },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });

  describe('reads only JSON bodies', () => {
    it.each([
      ['form-encoded (curl -d)', 'application/x-www-form-urlencoded'],
      ['text/plain', 'text/plain'],
      ['JSON in another charset', 'application/json; charset=latin1'],
      ['a JSON-like type', 'application/merge-patch+json'],
      ['multipart', 'multipart/form-data; boundary=x'],
    ])('%s: 415, nothing created, nothing echoed', async (_name, contentType) => {
      const before = await secretCount();
      const body = '{"key":"FORM_KEY","value":"form-value-9a7c1e"}';
      await expectProblem(await post(body, contentType), 415, ['form-value-9a7c1e', 'FORM_KEY']);
      expect(await secretCount()).toBe(before);
    });

    it('a body without a content type: 415', async () => {
      const res = await rawRequest(
        t.baseUrl,
        `POST /api/v1/secrets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
      );
      expect(res.status).toBe(415);
      expect(res.headers['content-type']).toMatch(PROBLEM);
    });

    it('accepts application/json with charset=utf-8', async () => {
      expect((await post('{"key":"CHARSET_OK","value":"v"}', 'application/json; charset=UTF-8')).status).toBe(201);
    });
  });

  describe('refuses bodies that are not well-formed before validation', () => {
    const deep = (depth: number) => '{"value":'.repeat(depth) + '1' + '}'.repeat(depth);
    it.each([
      ['null', 'null'],
      ['an array', '[]'],
      ['a string', '"x"'],
      ['malformed JSON quoting a value', '{"key":"K","value":"malformed-9c2e'],
      ['objects nested 5,000 deep', deep(5000)],
      ['an array nested 100,000 deep', '['.repeat(100_000) + ']'.repeat(100_000)],
      ['nesting one past the limit', deep(33)],
      ['a lone high surrogate', '{"key":"SURROGATE","value":"lone-\\ud800-9b1f"}'],
      ['a lone low surrogate in a member name', '{"key":"SURROGATE","value":"v","\\udc00":1}'],
      ['bytes that are not UTF-8', Buffer.concat([Buffer.from('{"key":"BAD_UTF8","value":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])],
      ['a prototype-poisoning member', '{"key":"PROTO","value":"v","__proto__":{"x":1}}'],
    ])('%s: 400, nothing created', async (_name, body) => {
      const before = await secretCount();
      await expectProblem(await post(body, 'application/json'), 400, ['malformed-9c2e', '9b1f']);
      expect(await secretCount()).toBe(before);
    });

    it('nesting at the limit is parsed (and then validated as usual)', async () => {
      const res = await post(deep(32), 'application/json');
      const body = await expectProblem(res, 400);
      expect(body.errors?.length).toBeGreaterThan(0);
    });

    it.each([
      ['PATCH null value', 'PATCH', '/api/v1/secrets/NULLS', '{"value":null}'],
      ['PATCH null description', 'PATCH', '/api/v1/secrets/NULLS', '{"description":null}'],
      ['POST null description', 'POST', '/api/v1/secrets', '{"key":"NULLS_2","value":"v","description":null}'],
    ])('%s: 400', async (_name, method, path, body) => {
      await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'NULLS', value: 'v' } });
      const res = await fetch(t.baseUrl + path, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body });
      await expectProblem(res, 400);
    });

    it('an unknown member is named only if it is a plain identifier (SPEC §3)', async () => {
      const pasted = 'key=K&value=pasted-value-41d9';
      const res = await post(JSON.stringify({ key: 'UNKNOWN_FIELDS', value: 'v', [pasted]: 1, extraField: 2 }), 'application/json');
      const body = await expectProblem(res, 400, ['pasted-value-41d9']);
      expect(body.errors!.map((e) => e.field).sort()).toEqual(['an unknown field', 'extraField']);
    });

    it('a body over 256 KiB: 413', async () => {
      await expectProblem(await post(JSON.stringify({ key: 'BIG', value: 'x'.repeat(300 * 1024) }), 'application/json'), 413);
    });
  });

  describe('turns what the framework and Node refuse into problem+json, echoing nothing', () => {
    it('an unknown route: 404, the path not named', async () => {
      await expectProblem(await t.request('/api/v1/no-such-route-5e1d'), 404, ['no-such-route-5e1d']);
      await expectProblem(await fetch(`${t.baseUrl}/no-such-page-5e1d`), 404, ['no-such-page-5e1d']);
    });

    it('a bad percent-encoding: 400, the path not named', async () => {
      const res = await rawRequest(t.baseUrl, `GET /api/v1/secrets/%E0%A4%A-bad-7f3a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nConnection: close\r\n\r\n`);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).not.toContain('bad-7f3a');
      expect(JSON.parse(res.body).detail).toMatch(/URL is not valid/);
    });

    it('a URL too long: 414', async () => {
      await expectProblem(await t.request(`/api/v1/secrets?after=${'a'.repeat(5000)}-long-2b8c`), 414, ['long-2b8c']);
    });

    it('headers too large: 431, written by Node before any route runs', async () => {
      const res = await rawRequest(t.baseUrl, `GET /api/v1/secrets HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(20_000)}-hdr-3c9d\r\n\r\n`);
      expect(res.status).toBe(431);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.body).not.toContain('hdr-3c9d');
      expect(JSON.parse(res.body).status).toBe(431);
    });

    it('a malformed request line: 400 problem+json', async () => {
      const res = await rawRequest(t.baseUrl, 'GET /api/v1/secrets HTTP/1.1 junk-6a2f\r\nHost: x\r\n\r\n');
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).not.toContain('junk-6a2f');
    });

    it('router-level errors carry nosniff and no-store too (an asterisk-form target, a bad encoding), hooks or not', async () => {
      for (const target of ['*', '/api/v1/secrets/%zz-enc-4b1e']) {
        const res = await rawRequest(t.baseUrl, `GET ${target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nConnection: close\r\n\r\n`);
        expect([target, res.status, res.headers['content-type'], res.headers['x-content-type-options'], res.headers['cache-control']]).toEqual([
          target,
          expect.any(Number),
          expect.stringMatching(PROBLEM),
          'nosniff',
          'no-store',
        ]);
        expect(res.body).not.toContain('enc-4b1e');
      }
    });

    it('an HTTP/1.1 request without Host: 400 problem+json, not Node\'s bare answer', async () => {
      const res = await rawRequest(t.baseUrl, `GET /api/v1/whoami HTTP/1.1\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nConnection: close\r\n\r\n`);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(JSON.parse(res.body)).toMatchObject({ status: 400, detail: expect.stringMatching(/Host/) });
      // HTTP/1.0 has no Host requirement: the same request is served.
      const old = await rawRequest(t.baseUrl, `GET /api/v1/whoami HTTP/1.0\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n\r\n`);
      expect(old.status).toBe(200);
    });

    it('an empty or null body where a JSON object is expected: 400, not a 500', async () => {
      const send = (path: string, method: string, body: string | undefined, contentType?: string) =>
        fetch(`${t.baseUrl}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(contentType ? { 'content-type': contentType } : {}) }, body });
      expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'EMPTY_BODY_TARGET', value: 'v' } })).status).toBe(201);
      for (const path of ['/api/v1/secrets/EMPTY_BODY_TARGET', '/api/v1/master-keys/rotate', '/api/v1/tokens', '/api/v1/resolve', '/api/v1/secrets']) {
        const method = path.startsWith('/api/v1/secrets/') ? 'PATCH' : 'POST';
        await expectProblem(await send(path, method, '', 'application/json'), 400);
        await expectProblem(await send(path, method, undefined), 400);
        await expectProblem(await send(path, method, 'null', 'application/json'), 400);
      }
    });

    it('the 409 of a master-key rotation names no part of the request', async () => {
      const asked = `kid-${Date.now().toString(36)}-9c4e`;
      const body = await expectProblem(await t.request('/api/v1/master-keys/rotate', { method: 'POST', json: { activeKid: asked } }), 409, [asked, '9c4e']);
      // Positive control: the answer does name the service's own key.
      expect(body.detail).toContain('test-1');
    });

    it('a client that aborts its request mid-body is logged at debug, not as an unexpected error', async () => {
      const { Logger } = await import('@nestjs/common');
      const { connect } = await import('node:net');
      const errors = jest.spyOn(Logger.prototype, 'error');
      const debug = jest.spyOn(Logger.prototype, 'debug');
      try {
        const socket = connect(Number(new URL(t.baseUrl).port), '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        socket.write(`POST /api/v1/secrets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"key":"A`);
        await new Promise((resolve) => setTimeout(resolve, 200));
        socket.destroy();
        await expectEventually(() => expect(debug.mock.calls.flat()).toContain('the client closed the connection before its request was read'), 5_000);
        expect(errors.mock.calls.flat()).not.toContain('unexpected error');
      } finally {
        errors.mockRestore();
        debug.mockRestore();
      }
    });

    it('a bad Content-Length: 400 problem+json', async () => {
      const res = await rawRequest(t.baseUrl, `POST /api/v1/secrets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: nope\r\n\r\n{}`);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
    });
  });

  describe('checks the token before the body', () => {
    it('answers 401 to an unauthenticated request while its body is still arriving, and closes the connection', async () => {
      // Headers promise 200 KB; none of it is sent. A service that reads bodies first would wait.
      const res = await rawRequest(
        t.baseUrl,
        'POST /api/v1/secrets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n{"key":',
        5_000,
      );
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.closed).toBe(true);
    });

    it('a client that goes on sending its body after the 401 gets a FIN and no reset, so it can still read the answer', async () => {
      const { connect } = await import('node:net');
      // allowHalfOpen: the client does not close when it sees our FIN, and keeps writing the body
      // as a slow client would. A socket destroyed with those bytes unread would answer them with
      // a reset (ECONNRESET / EPIPE here), which can cost a client the answer it has not read.
      const socket = connect({ port: Number(new URL(t.baseUrl).port), host: '127.0.0.1', allowHalfOpen: true });
      let answer = '';
      let ended = false;
      const errors: string[] = [];
      socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
      socket.on('end', () => (ended = true));
      socket.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message));
      socket.write('POST /api/v1/secrets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n{"key":');
      const drip = setInterval(() => socket.writable && socket.write(Buffer.alloc(1024, 'a')), 10);
      try {
        await expectEventually(() => expect(ended).toBe(true), 5_000);
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(errors).toEqual([]);
        expect(answer).toMatch(/^HTTP\/1\.1 401 /);
      } finally {
        clearInterval(drip);
        socket.destroy();
      }
    });
  });

  describe('headers', () => {
    it('no-store on API answers that carry a token or a value, nosniff everywhere', async () => {
      const issued = await t.request('/api/v1/tokens', { method: 'POST', json: { name: 'headers', role: 'executor' } });
      expect(issued.status).toBe(201);
      expect(issued.headers.get('cache-control')).toBe('no-store');
      const executor = ((await issued.json()) as { token: string }).token;
      const resolved = await t.request('/api/v1/resolve', { method: 'POST', token: executor, json: { plugin: 'p', keys: ['CHARSET_OK'] } });
      expect(resolved.status).toBe(200);
      expect(resolved.headers.get('cache-control')).toBe('no-store');
      for (const path of ['/health', '/docs', '/', '/api/v1/secrets']) {
        const res = await t.request(path);
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      }
    });

    it('the admin page keeps its own strict CSP; the rest gets helmet’s', async () => {
      const page = await t.request('/', { token: null });
      expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
      const docs = await t.request('/docs', { token: null });
      expect(docs.status).toBe(200);
      expect(docs.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
      // Swagger UI loads only same-origin scripts, which that CSP allows: no inline script.
      const html = await docs.text();
      expect(html).not.toMatch(/<script>(?!\s*<\/script>)/);
    });
  });
});

describe('time limits', () => {
  it('a body that does not arrive within the request timeout: 408 problem+json', async () => {
    const data = tempDataDir();
    const t = await startTestApp(testConfig(data.dir, { http: { ...testConfig(data.dir).http, requestTimeoutMs: 1500, headersTimeoutMs: 1000 } }));
    try {
      const res = await rawRequest(
        t.baseUrl,
        `POST /api/v1/secrets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"key":"SLOW",`,
        15_000,
      );
      expect(res.status).toBe(408);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(JSON.parse(res.body).status).toBe(408);
      expect((await t.request('/api/v1/secrets/SLOW')).status).toBe(404);
    } finally {
      await t.close();
      data.cleanup();
    }
  });
});

describe('the connection cap', () => {
  it('closes connections past SECRETS_MAX_CONNECTIONS at once, and serves again when they go', async () => {
    const data = tempDataDir();
    const base = testConfig(data.dir);
    const t = await startTestApp(testConfig(data.dir, { http: { ...base.http, maxConnections: 4 } }));
    const { connect } = await import('node:net');
    const port = Number(new URL(t.baseUrl).port);
    const idle = Array.from({ length: 4 }, () => connect(port, '127.0.0.1'));
    try {
      await Promise.all(idle.map((socket) => new Promise((resolve) => socket.once('connect', resolve))));
      await new Promise((resolve) => setTimeout(resolve, 200));
      await expect(rawRequest(t.baseUrl, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n', 5_000)).rejects.toThrow(/no response \(closed: true\)/);
      idle.forEach((socket) => socket.destroy());
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await rawRequest(t.baseUrl, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 5_000)).status).toBe(200);
    } finally {
      idle.forEach((socket) => socket.destroy());
      await t.close();
      data.cleanup();
    }
  });
});

// A role the route does not allow still gets 403 (the guard), after the edge accepted the token.
describe('roles after the edge', () => {
  const t = useTestApp();
  it('an auditor posting a secret: 403', async () => {
    const auditor = await t.app.get(TokensService).issue({ name: 'a', role: 'auditor', plugins: null }, SYSTEM_ACTOR);
    const res = await t.request('/api/v1/secrets', { method: 'POST', token: auditor.token, json: { key: 'NOPE', value: 'v' } });
    expect(res.status).toBe(403);
  });
});
