import { FieldError, ValidationError, fieldNameFromRequest } from '../../common/errors';
import { decodeCursor, encodeCursor, parseLimit } from '../../common/page-cursor';
import { isValidSecretKey } from '../domain/secret-key';

export const MAX_SECRETS_PAGE = 1_000;

/** `GET /secrets?after&limit` (SPEC §3): pages in key order; `after` is the previous page's `next`. */
export interface SecretListQuery {
  afterKey: string;
  limit: number;
}

export function secretListCursor(lastKey: string): string {
  return encodeCursor({ key: lastKey });
}

export function parseSecretListQuery(raw: Record<string, unknown>): SecretListQuery {
  const errors: FieldError[] = Object.keys(raw)
    .filter((name) => name !== 'after' && name !== 'limit')
    .map((name) => ({ field: fieldNameFromRequest(name), message: 'is not a known parameter' }));
  let afterKey = '';
  if (raw.after !== undefined) {
    const key = decodeCursor(raw.after, ({ key }) => (typeof key === 'string' && isValidSecretKey(key) ? key : undefined));
    if (key === undefined) errors.push({ field: 'after', message: 'must be a cursor returned as next by a previous page' });
    else afterKey = key;
  }
  const limit = parseLimit(raw.limit, MAX_SECRETS_PAGE) ?? MAX_SECRETS_PAGE;
  if (Number.isNaN(limit)) errors.push({ field: 'limit', message: `must be an integer from 1 to ${MAX_SECRETS_PAGE}` });
  if (errors.length > 0) throw new ValidationError('The list query is invalid.', errors);
  return { afterKey, limit };
}
