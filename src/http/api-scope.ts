import { posix } from 'node:path';
import type { FastifyRequest } from 'fastify';

/** Every route under this prefix needs a token; the rest (/, /health, /docs) is public. */
export const API_PREFIX = '/api/v1/';

/** What the router strips from an absolute-form target (`GET http://host/api/v1/…`). */
const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i;

/**
 * The path the router reads from a raw target: absolute form stripped, query cut off,
 * percent-encoding decoded, repeated slashes and dot segments resolved. Used only for a
 * request no route matched, so that a 404 is answered alike however its path was spelled.
 */
export function canonicalPath(target: string): string {
  const path = target.replace(ABSOLUTE_FORM, '').split('?')[0];
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // The router refuses an encoding that does not decode before any hook runs; a raw `%` that
    // still arrives here is read as the text it is.
    decoded = path;
  }
  return posix.normalize(`/${decoded}`);
}

/**
 * Whether the HTTP edge treats a request as an API call (token before body, rate limits,
 * refusal records, `no-store`). Decided from what the router routed — the matched route's
 * pattern — never from the raw URL: `/%61pi/v1/…`, `/api/%76%31/…` and
 * `GET http://host/api/v1/…` reach the same controller as `/api/v1/…`, so they get the same
 * edge. A request no route matches is judged by its canonical path.
 */
export function isApiRequest(request: FastifyRequest): boolean {
  const pattern = request.routeOptions.url;
  return (pattern ?? canonicalPath(request.url)).startsWith(API_PREFIX);
}
