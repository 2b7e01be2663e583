import type { Role } from '../../src/auth/principal';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { withRawDatabase } from '../support/raw-database';
import { useTestApp } from '../support/test-app';

interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** As the OpenAPI document names it. */
  path: string;
  allowed: Role[];
  /** The concrete URL and a valid body: an allowed call may still be 404, never 401 or 403. */
  url: () => string;
  json?: () => unknown;
}

let doomed = 0;

/** Every route under /api/v1, with the roles SPEC §3 gives it. */
const ROUTES: Route[] = [
  { method: 'GET', path: '/api/v1/secrets', allowed: ['admin', 'auditor'], url: () => '/api/v1/secrets' },
  { method: 'POST', path: '/api/v1/secrets', allowed: ['admin'], url: () => '/api/v1/secrets', json: () => ({ key: `NEW_${++doomed}`, value: 'v' }) },
  { method: 'GET', path: '/api/v1/secrets/{key}', allowed: ['admin', 'auditor'], url: () => '/api/v1/secrets/ROUTE_KEY' },
  { method: 'PATCH', path: '/api/v1/secrets/{key}', allowed: ['admin'], url: () => '/api/v1/secrets/ROUTE_KEY', json: () => ({ description: 'd' }) },
  { method: 'DELETE', path: '/api/v1/secrets/{key}', allowed: ['admin'], url: () => '/api/v1/secrets/DOOMED_KEY' },
  { method: 'GET', path: '/api/v1/secrets/{key}/history', allowed: ['admin', 'auditor'], url: () => '/api/v1/secrets/ROUTE_KEY/history' },
  { method: 'POST', path: '/api/v1/resolve', allowed: ['executor'], url: () => '/api/v1/resolve', json: () => ({ plugin: 'p', keys: ['ROUTE_KEY'] }) },
  { method: 'POST', path: '/api/v1/tokens', allowed: ['admin'], url: () => '/api/v1/tokens', json: () => ({ name: 'n', role: 'auditor' }) },
  { method: 'GET', path: '/api/v1/tokens', allowed: ['admin'], url: () => '/api/v1/tokens' },
  { method: 'DELETE', path: '/api/v1/tokens/{id}', allowed: ['admin'], url: () => '/api/v1/tokens/tok_not-issued' },
  { method: 'GET', path: '/api/v1/audit', allowed: ['admin', 'auditor'], url: () => '/api/v1/audit' },
  { method: 'GET', path: '/api/v1/audit/export', allowed: ['admin', 'auditor'], url: () => '/api/v1/audit/export?format=csv' },
  { method: 'GET', path: '/api/v1/audit/verify', allowed: ['admin', 'auditor'], url: () => '/api/v1/audit/verify' },
  { method: 'GET', path: '/api/v1/audit/head', allowed: ['admin', 'auditor'], url: () => '/api/v1/audit/head' },
  // A bad revision: an allowed caller gets 400 rather than a stream left open.
  { method: 'GET', path: '/api/v1/changes', allowed: ['admin', 'auditor', 'executor'], url: () => '/api/v1/changes?after=x' },
  { method: 'GET', path: '/api/v1/whoami', allowed: ['admin', 'auditor', 'executor'], url: () => '/api/v1/whoami' },
  { method: 'POST', path: '/api/v1/master-keys/rotate', allowed: ['admin'], url: () => '/api/v1/master-keys/rotate', json: () => ({}) },
];

const ROLES: Role[] = ['admin', 'executor', 'auditor'];
const label = (route: Route) => `${route.method} ${route.path}`;

describe('every /api/v1 route × every kind of caller', () => {
  const t = useTestApp();
  let tokens: TokensService;
  let revoked: string;

  /** A fresh principal per case: refusals are rate-bounded per principal, and each is checked on its own. */
  const tokenFor = async (role: Role, name: string) => tokens.issue({ name, role, plugins: null }, SYSTEM_ACTOR);

  const call = (route: Route, token: string | null) =>
    t.request(route.url(), { method: route.method, token, ...(route.json ? { json: route.json() } : {}) });

  beforeAll(async () => {
    tokens = t.app.get(TokensService);
    for (const key of ['ROUTE_KEY', 'DOOMED_KEY']) await t.request('/api/v1/secrets', { method: 'POST', json: { key, value: 'v' } });
    const gone = await tokenFor('admin', 'gone');
    await tokens.revoke(gone.id, SYSTEM_ACTOR);
    revoked = gone.token;
  });

  it('the table names every /api/v1 route the application serves', async () => {
    const document = await (await t.request('/docs-json', { token: null })).json();
    const served = Object.entries(document.paths as Record<string, object>)
      .filter(([path]) => path.startsWith('/api/v1/'))
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
    expect(served.sort()).toEqual(ROUTES.map(label).sort());
  });

  describe.each(ROUTES.map((route) => [label(route), route] as const))('%s', (_name, route) => {
    it.each([
      ['no token', () => null],
      ['an unknown token', () => 'slt_unknown-token-0000000000000000000000000000'],
      ['a revoked token', () => revoked],
    ])('%s: 401 with WWW-Authenticate', async (_case, token) => {
      const res = await call(route, token());
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    });

    it.each(ROLES)('%s', async (role) => {
      const principal = await tokenFor(role, `${role} on ${label(route)}`);
      const res = await call(route, principal.token);
      if (route.allowed.includes(role)) {
        expect([401, 403]).not.toContain(res.status);
        expect(res.status).toBeLessThan(500);
        return;
      }
      expect(res.status).toBe(403);
      const denials = await withRawDatabase(t.config, (db) =>
        db.all<{ data: string; actor: string; at: string }>(`SELECT data, actor, at FROM events WHERE type = 'AccessDenied' AND ${db.dialect.actorId} = ?`, [principal.id]),
      );
      expect(denials).toHaveLength(1);
      expect(JSON.parse(denials[0].actor)).toEqual({ id: principal.id, name: principal.name, role });
      expect(JSON.parse(denials[0].data)).toEqual({ action: `${route.method} ${route.path.replace(/\{(\w+)\}/g, ':$1')}`, suppressed: 0 });
    });
  });
});
