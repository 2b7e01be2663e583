import { canonicalPath } from '../../src/http/api-scope';

/** The path a request no route matched is judged by: the router's reading of the raw target. */
describe('canonicalPath', () => {
  it.each([
    ['/api/v1/nope', '/api/v1/nope'],
    ['/%61pi/%76%31/nope?x=%00', '/api/v1/nope'],
    ['http://host:1/api/v1/nope', '/api/v1/nope'],
    ['HTTPS://host/api/v1/nope', '/api/v1/nope'],
    ['//api//v1///nope', '/api/v1/nope'],
    ['/api/./v1/x/../nope', '/api/v1/nope'],
    ['/api/%2e%2e/api/v1/nope', '/api/v1/nope'],
    ['/api/v1/%zz', '/api/v1/%zz'],
    ['*', '/*'],
  ])('%s is read as %s', (target, path) => {
    expect(canonicalPath(target)).toBe(path);
  });
});
