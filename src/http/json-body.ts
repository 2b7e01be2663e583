import { ValidationError } from '../common/errors';

/** SPEC §3: deeper JSON is refused before it is parsed, so no parser or validator recurses on it. */
export const MAX_JSON_DEPTH = 32;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The deepest nesting of objects and arrays in a JSON text, found in one pass over its bytes
 * without recursion (a multi-byte UTF-8 sequence never contains an ASCII byte, so scanning
 * bytes is exact). Stops as soon as `limit` is exceeded.
 */
export function jsonDepthExceeds(body: Buffer, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

const isWellFormed = (text: string): boolean => (text as string & { isWellFormed(): boolean }).isWellFormed();

/** Whether every string in a parsed JSON value, member names included, is well-formed Unicode (no lone surrogate). */
export function allStringsWellFormed(value: unknown): boolean {
  if (typeof value === 'string') return isWellFormed(value);
  if (Array.isArray(value)) return value.every(allStringsWellFormed);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).every(([name, member]) => isWellFormed(name) && allStringsWellFormed(member));
  }
  return true;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export type JsonParse = (text: string) => unknown;

/**
 * A request body as the API accepts it: UTF-8 JSON whose top level is an object, at most
 * MAX_JSON_DEPTH deep, with well-formed strings. Every refusal is a 400 whose message says what
 * is wrong in general terms; none quotes the body (SPEC §3: it may hold a secret value).
 * `parse` is the framework's JSON parser (it also refuses prototype poisoning).
 */
export function parseJsonBody(body: Buffer, parse: JsonParse): unknown {
  if (body.length === 0) return undefined;
  if (jsonDepthExceeds(body, MAX_JSON_DEPTH)) {
    throw new ValidationError(`The request body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels.`);
  }
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    throw new ValidationError('The request body is not valid UTF-8.');
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch {
    throw new ValidationError('The request body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('The request body must be a JSON object.');
  }
  if (!allStringsWellFormed(value)) {
    throw new ValidationError('The request body holds a string that is not well-formed Unicode (a lone surrogate).');
  }
  return value;
}

/** `application/json`, optionally with `charset=utf-8`: the only request content type the API reads. */
export const JSON_CONTENT_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
