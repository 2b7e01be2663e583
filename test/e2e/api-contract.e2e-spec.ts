import { API } from '../../src/contract/api-routes';
import { useTestApp } from '../support/test-app';

type Document = { paths: Record<string, Record<string, unknown>> };

/** What the OpenAPI document lacks of `routes`: each as `METHOD /path`. */
function unserved(document: Document, routes: ReadonlyArray<{ method: string; path: string }>): string[] {
  return routes.filter(({ method, path }) => !document.paths[`/${path}`]?.[method.toLowerCase()]).map(({ method, path }) => `${method} /${path}`);
}

/**
 * Every route the SDK, the CLI and the console call (src/contract/api-routes.ts) is one the
 * service serves, with that method, as its OpenAPI document (generated from the controllers) says.
 */
describe('the clients’ routes and the service’s', () => {
  const t = useTestApp();
  let document: Document;

  beforeAll(async () => {
    const response = await t.request('/docs-json', { token: null });
    expect(response.status).toBe(200);
    document = (await response.json()) as Document;
  });

  it('each route in API is in the OpenAPI document with its method', () => {
    expect(Object.keys(API).length).toBeGreaterThan(10);
    expect(unserved(document, Object.values(API))).toEqual([]);
  });

  it('a route the service does not serve is reported (control)', () => {
    expect(unserved(document, [{ method: 'PUT', path: 'api/v1/secrets/{key}' }, { method: 'GET', path: 'api/v1/secret/{key}' }])).toEqual([
      'PUT /api/v1/secrets/{key}',
      'GET /api/v1/secret/{key}',
    ]);
  });
});
