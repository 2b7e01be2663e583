import { FieldError, ValidationError, fieldNameFromRequest } from '../common/errors';
import { SECRET_KEY_RULE, isValidSecretKey } from '../secrets/domain/secret-key';

export const MAX_STREAM_KEYS = 256;
const REVISION = /^\d{1,15}$/;

/** `GET /changes?keys&after` with `Last-Event-ID` (SPEC §3). */
export interface ChangesQuery {
  /** The revision to start after; undefined: the head. */
  after: number | undefined;
  keys: ReadonlySet<string> | undefined;
}

/** `Last-Event-ID` (a reconnecting reader's last id) wins over `after`. */
export function parseChangesQuery(raw: Record<string, unknown>, lastEventId: string | string[] | undefined): ChangesQuery {
  const errors: FieldError[] = Object.keys(raw)
    .filter((name) => name !== 'after' && name !== 'keys')
    .map((name) => ({ field: fieldNameFromRequest(name), message: 'is not a known parameter' }));
  const revision = (field: string, value: unknown): number | undefined => {
    if (value === undefined) return undefined;
    if (typeof value === 'string' && REVISION.test(value)) return Number(value);
    errors.push({ field, message: 'must be a revision: a non-negative integer' });
    return undefined;
  };
  const fromHeader = revision('Last-Event-ID', lastEventId);
  const fromQuery = revision('after', raw.after);
  const keys = parseKeys(raw.keys, errors);
  if (errors.length > 0) throw new ValidationError('The change stream query is invalid.', errors);
  return { after: fromHeader ?? fromQuery, keys };
}

function parseKeys(raw: unknown, errors: FieldError[]): ReadonlySet<string> | undefined {
  if (raw === undefined) return undefined;
  const keys = typeof raw === 'string' ? raw.split(',') : [];
  if (keys.length === 0 || keys.length > MAX_STREAM_KEYS) {
    errors.push({ field: 'keys', message: `must be 1 to ${MAX_STREAM_KEYS} secret keys, separated by commas` });
    return undefined;
  }
  // The key itself is not repeated back: it may be anything a client typed.
  if (!keys.every(isValidSecretKey)) errors.push({ field: 'keys', message: `each ${SECRET_KEY_RULE}` });
  else if (new Set(keys).size !== keys.length) errors.push({ field: 'keys', message: 'must not name a key twice' });
  return new Set(keys);
}
