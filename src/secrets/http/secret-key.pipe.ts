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

/** A `{version}` path parameter: a version number (1, 2, …), else a bad request. */
export class SecretVersionPipe implements PipeTransform<string, number> {
  transform(version: string): number {
    if (!/^[1-9][0-9]{0,14}$/.test(version)) {
      throw new ValidationError('The version in the path is not a version number.', [{ field: 'version', message: 'must be an integer of at least 1' }]);
    }
    return Number(version);
  }
}
