import { FieldError, ValidationError, fieldNameFromRequest } from '../common/errors';
import { KEYS_PARAM, MAX_STREAM_KEYS, PLUGIN_PARAM, VALUES_PARAM } from '../contract/change-notification';
import { PLUGIN_NAME_PATTERN, PLUGIN_NAME_RULE } from '../auth/plugin-name';
import { SECRET_KEY_RULE, isValidSecretKey } from '../secrets/domain/secret-key';

const REVISION = /^\d{1,15}$/;
const PARAMETERS = ['after', KEYS_PARAM, VALUES_PARAM, PLUGIN_PARAM];

/** `GET /changes?keys&after&values&plugin` with `Last-Event-ID` (SPEC §3). */
export interface ChangesQuery {
  /** The revision to start after; undefined: the head. */
  after: number | undefined;
  keys: ReadonlySet<string> | undefined;
  /** Values mode (`values=true`): the plugin whose `keys` values the stream carries. */
  valuesFor: string | undefined;
}

/** `Last-Event-ID` (a reconnecting reader's last id) wins over `after`. Nothing of the request is echoed. */
export function parseChangesQuery(raw: Record<string, unknown>, lastEventId: string | string[] | undefined): ChangesQuery {
  const errors: FieldError[] = Object.keys(raw)
    .filter((name) => !PARAMETERS.includes(name))
    .map((name) => ({ field: fieldNameFromRequest(name), message: 'is not a known parameter' }));
  const revision = (field: string, value: unknown): number | undefined => {
    if (value === undefined) return undefined;
    if (typeof value === 'string' && REVISION.test(value)) return Number(value);
    errors.push({ field, message: 'must be a revision: a non-negative integer' });
    return undefined;
  };
  const fromHeader = revision('Last-Event-ID', lastEventId);
  const fromQuery = revision('after', raw.after);
  const keys = parseKeys(raw[KEYS_PARAM], errors);
  const valuesFor = parseValuesMode(raw, keys, errors);
  if (errors.length > 0) throw new ValidationError('The change stream query is invalid.', errors);
  return { after: fromHeader ?? fromQuery, keys, valuesFor };
}

function parseKeys(raw: unknown, errors: FieldError[]): ReadonlySet<string> | undefined {
  if (raw === undefined) return undefined;
  const keys = typeof raw === 'string' ? raw.split(',') : [];
  if (keys.length === 0 || keys.length > MAX_STREAM_KEYS) {
    errors.push({ field: KEYS_PARAM, message: `must be 1 to ${MAX_STREAM_KEYS} secret keys, separated by commas` });
    return undefined;
  }
  // The key itself is not repeated back: it may be anything a client typed.
  if (!keys.every(isValidSecretKey)) errors.push({ field: KEYS_PARAM, message: `each ${SECRET_KEY_RULE}` });
  else if (new Set(keys).size !== keys.length) errors.push({ field: KEYS_PARAM, message: 'must not name a key twice' });
  return new Set(keys);
}

/** `values=true` needs the plugin and its keys, as a resolve does; `plugin` means nothing without it. */
function parseValuesMode(raw: Record<string, unknown>, keys: ReadonlySet<string> | undefined, errors: FieldError[]): string | undefined {
  const values = raw[VALUES_PARAM];
  const plugin = raw[PLUGIN_PARAM];
  if (values === undefined) {
    if (plugin !== undefined) errors.push({ field: PLUGIN_PARAM, message: `is given only with ${VALUES_PARAM}=true` });
    return undefined;
  }
  if (values !== 'true') {
    errors.push({ field: VALUES_PARAM, message: 'must be true, or absent for a value-free stream' });
    return undefined;
  }
  if (raw[KEYS_PARAM] === undefined) errors.push({ field: KEYS_PARAM, message: `is required with ${VALUES_PARAM}=true: the keys the plugin declares` });
  if (typeof plugin !== 'string' || !PLUGIN_NAME_PATTERN.test(plugin)) {
    errors.push({ field: PLUGIN_PARAM, message: `is required with ${VALUES_PARAM}=true and ${PLUGIN_NAME_RULE}` });
    return undefined;
  }
  return keys && plugin;
}
