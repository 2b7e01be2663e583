import { KeyObject, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/configuration';
import { devKeyFile, warnOfDevKeyFile } from '../crypto/dev-key-file';

export const DEV_SIGNING_KEY_FILE = 'signing-key.dev.pem';

/**
 * The Ed25519 key the service signs its checkpoints with. Only the public half ever leaves the
 * process (`GET /audit/signing-key`); `keyId` names it in every checkpoint, so a verifier holding
 * another key says so instead of calling every checkpoint forged.
 */
export class SigningKey {
  readonly publicKey: KeyObject;
  readonly publicKeyPem: string;
  readonly keyId: string;

  constructor(
    private readonly privateKey: KeyObject,
    /** Set when the key is the generated development file. */
    readonly devKeyFile?: string,
  ) {
    this.publicKey = createPublicKey(privateKey);
    this.publicKeyPem = this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.keyId = keyIdOf(this.publicKey);
  }

  sign(message: Buffer): string {
    return sign(null, message, this.privateKey).toString('base64');
  }
}

/** The first 16 bytes of SHA-256 over the public key (SPKI DER), hex: short, and the same for anyone holding the key. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(spkiDer(publicKey)).digest('hex').slice(0, 32);
}

/** The public key as SPKI DER: the bytes a base64 `publicKey` field carries. */
export function spkiDer(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: 'spki', format: 'der' });
}

/**
 * An Ed25519 key from PEM text (PKCS#8 private, or SPKI public for a verifier), or a public key
 * as the base64 of its SPKI DER (the PEM's body: what a JSON body carries, which holds no line
 * breaks); `source` names the file or field in the error.
 */
export function parseEd25519(text: string, kind: 'private' | 'public', source: string): KeyObject {
  let key: KeyObject;
  try {
    if (kind === 'private') key = createPrivateKey(text);
    else key = text.startsWith('-----BEGIN') ? createPublicKey(text) : createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new ConfigError([`${source}: not a PEM ${kind === 'private' ? 'private key (PKCS#8)' : 'public key'}`]);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new ConfigError([`${source}: the key is ${key.asymmetricKeyType}, not Ed25519`]);
  return key;
}

/**
 * SECRETS_SIGNING_KEY_FILE, or — outside production and PostgreSQL, which config validation
 * enforces — a key generated into the data dir on first start, with a warning.
 */
export function loadSigningKey(configuredFile: string | undefined, dataDir: string): SigningKey {
  if (configuredFile !== undefined) return new SigningKey(parseEd25519(readFileSync(configuredFile, 'utf8'), 'private', 'SECRETS_SIGNING_KEY_FILE'));
  const file = devKeyFile(dataDir, DEV_SIGNING_KEY_FILE, () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const key = new SigningKey(parseEd25519(readFileSync(file, 'utf8'), 'private', file), file);
  warnOfDevKeyFile(
    file,
    ['WARNING: SECRETS_SIGNING_KEY_FILE is unset. Audit checkpoints', 'are signed with the development key file'],
    ['Anyone who can read it can forge checkpoints. Set', 'SECRETS_SIGNING_KEY_FILE (openssl genpkey -algorithm ed25519) in production.'],
  );
  return key;
}
