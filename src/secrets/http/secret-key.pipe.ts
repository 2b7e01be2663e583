import { PipeTransform } from '@nestjs/common';
import { ValidationError } from '../../common/errors';
import { SECRET_KEY_RULE, isValidSecretKey } from '../domain/secret-key';

/** A `{key}` path parameter that cannot name a secret is a bad request, not a missing one. */
export class SecretKeyPipe implements PipeTransform<string, string> {
  transform(key: string): string {
    if (!isValidSecretKey(key)) throw new ValidationError('The key in the path is not a valid secret key.', [{ field: 'key', message: SECRET_KEY_RULE }]);
    return key;
  }
}
