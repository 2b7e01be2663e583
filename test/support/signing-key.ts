import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A checkpoint signing key file in `dir`, as `openssl genpkey -algorithm ed25519` writes it:
 * what every instance on one PostgreSQL database must be given (SECRETS_SIGNING_KEY_FILE).
 */
export function signingKeyFile(dir: string): string {
  const file = join(dir, 'signing-key.pem');
  writeFileSync(file, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return file;
}
