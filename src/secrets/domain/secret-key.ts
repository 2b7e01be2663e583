/** SPEC §1: upper snake case, at most 128 characters. */
export const SECRET_KEY_PATTERN = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;
export const SECRET_KEY_MAX_LENGTH = 128;
export const SECRET_VALUE_MAX_BYTES = 65_536;
export const DESCRIPTION_MAX_LENGTH = 1_000;

export function isValidSecretKey(key: unknown): key is string {
  return typeof key === 'string' && key.length <= SECRET_KEY_MAX_LENGTH && SECRET_KEY_PATTERN.test(key);
}

export const SECRET_KEY_RULE =
  'must be upper snake case (A-Z, 0-9, single underscores between words, starting with a letter) and at most 128 characters';
