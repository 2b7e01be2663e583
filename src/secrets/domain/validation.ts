import { FieldError, ValidationError } from '../../common/errors';
import {
  DESCRIPTION_MAX_LENGTH,
  SECRET_KEY_RULE,
  SECRET_VALUE_MAX_BYTES,
  isValidSecretKey,
} from './secret-key';
import type { SecretValue } from '../../crypto/secret-value';
import { expiresAtErrors } from './expiry';

/**
 * The rules of SPEC §1, in one place. Every problem is reported, field by field; messages
 * describe the rule, never the offending value (it may be a secret pasted in the wrong field).
 */
export function secretFieldErrors(fields: { key?: string; value?: SecretValue; description?: string; expiresAt?: string | null }): FieldError[] {
  const errors: FieldError[] = [];
  if (fields.key !== undefined && !isValidSecretKey(fields.key)) {
    errors.push({ field: 'key', message: SECRET_KEY_RULE });
  }
  if (fields.value !== undefined) {
    const bytes = Buffer.byteLength(fields.value.reveal(), 'utf8');
    if (bytes === 0) errors.push({ field: 'value', message: 'must not be empty' });
    else if (bytes > SECRET_VALUE_MAX_BYTES) {
      errors.push({ field: 'value', message: `must be at most ${SECRET_VALUE_MAX_BYTES} bytes of UTF-8 (got ${bytes})` });
    }
  }
  if (fields.description !== undefined && fields.description.length > DESCRIPTION_MAX_LENGTH) {
    errors.push({ field: 'description', message: `must be at most ${DESCRIPTION_MAX_LENGTH} characters` });
  }
  errors.push(...expiresAtErrors(fields.expiresAt));
  return errors;
}

export function assertValidSecretFields(fields: Parameters<typeof secretFieldErrors>[0]): void {
  const errors = secretFieldErrors(fields);
  if (errors.length > 0) throw new ValidationError('The secret is invalid.', errors);
}
