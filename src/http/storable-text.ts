import type { FastifyInstance } from 'fastify';
import { FieldError, ValidationError, fieldNameFromRequest } from '../common/errors';
import { isApiRequest } from './api-scope';

/**
 * C0 control characters (U+0000–U+001F). PostgreSQL cannot store U+0000 in text at all, SQLite
 * would store it as is, and none of them belongs in a key, a name, a description, an id or a
 * filter: one rule refuses them on both engines before any code reads the request.
 */
const CONTROL_CHARACTER = /[\u0000-\u001f]/;

/**
 * The one member the database never sees as text: a secret's value is sealed before it is stored,
 * so it may hold any Unicode, controls included, and comes back byte for byte.
 */
const SEALED_MEMBER = 'value';

/** Methods whose API routes all take a JSON object body (SPEC §3). */
const METHODS_WITH_BODY = new Set(['POST', 'PATCH', 'PUT']);

function holdsControl(value: unknown): boolean {
  if (typeof value === 'string') return CONTROL_CHARACTER.test(value);
  if (Array.isArray(value)) return value.some(holdsControl);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).some(([name, member]) => CONTROL_CHARACTER.test(name) || holdsControl(member));
  }
  return false;
}

/** The fields of one part of a request (path, query, body) that hold a control character. */
function fieldsWithControls(part: unknown, where: string, sealed?: string): FieldError[] {
  if (typeof part !== 'object' || part === null) return [];
  return Object.entries(part)
    .filter(([name, value]) => name !== sealed && (CONTROL_CHARACTER.test(name) || holdsControl(value)))
    .map(([name]) => ({ field: fieldNameFromRequest(name), message: `${where} holds a control character (U+0000-U+001F)` }));
}

/**
 * SPEC §3, one hook for every API route, after the body is parsed and before any controller,
 * pipe or query runs: a body-taking method without a body is `400`, and so is a control
 * character in a path parameter, a query parameter or any body string but a secret's value. The
 * refusal names the field (or "an unknown field"), never the text.
 */
export function refuseUnstorableText(fastify: FastifyInstance): void {
  fastify.addHook('preValidation', async (request) => {
    if (!isApiRequest(request)) return;
    if (METHODS_WITH_BODY.has(request.method) && request.body === undefined) {
      throw new ValidationError('The request body must be a JSON object.');
    }
    const errors = [
      ...fieldsWithControls(request.params, 'the path parameter'),
      ...fieldsWithControls(request.query, 'the query parameter'),
      ...fieldsWithControls(request.body, 'the member', SEALED_MEMBER),
    ];
    if (errors.length > 0) throw new ValidationError('The request holds text the service does not store: a control character.', errors);
  });
}
