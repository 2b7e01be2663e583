import { inspect } from 'node:util';

const REDACTED = '[REDACTED]';

/**
 * A plaintext secret value in memory. It refuses to be printed: `toString`, `toJSON` and
 * `util.inspect` all yield "[REDACTED]", so a value that slips into a log call, an error or a
 * JSON body shows nothing. The only way out is `reveal()`, which the two places that need the
 * plaintext (encryption and the resolve response) call explicitly.
 */
export class SecretValue {
  readonly #plaintext: string;

  constructor(plaintext: string) {
    this.#plaintext = plaintext;
  }

  reveal(): string {
    return this.#plaintext;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
