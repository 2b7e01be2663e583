import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Envelope encryption (SPEC §1) with AES-256-GCM throughout.
 *
 *   value    --AES-GCM(data key, aad = value AAD)-->  sealed value   (stored in the event row)
 *   data key --AES-GCM(master key, aad = key AAD)-->  wrapped key    (stored beside it, rewrappable)
 *
 * A sealed blob is `iv (12) | tag (16) | ciphertext`. The associated data names the stream,
 * version and event id, so a ciphertext copied to another row fails authentication instead of
 * decrypting to the wrong secret.
 */
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const DATA_KEY_BYTES = 32;

/**
 * Random bytes for keys and IVs, drawn from a pooled CSPRNG buffer: three small `randomBytes`
 * calls per sealed value showed in a write's profile, one getrandom call each (docs/BENCHMARKS.md,
 * Figures behind design choices). Bytes handed out are copied and wiped from the pool, so no two
 * callers ever share them.
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

export function freshRandom(bytes: number): Buffer {
  if (poolOffset + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  const out = Buffer.from(pool.subarray(poolOffset, poolOffset + bytes));
  pool.fill(0, poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return out;
}

export function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = freshRandom(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

export function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new DecryptionError('sealed blob is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new DecryptionError('authentication failed (wrong key, or ciphertext moved or altered)');
  }
}

export function newDataKey(): Buffer {
  return freshRandom(DATA_KEY_BYTES);
}

/** Binds a sealed value to the secret's stream, version and event. */
export function valueAad(stream: string, version: number, eventId: string): Buffer {
  return Buffer.from(`secrets-ledger/value/v1\n${stream}\n${version}\n${eventId}`);
}

/** Binds a wrapped data key to its event and to the master key id that wrapped it. */
export function dataKeyAad(eventId: string, kid: string): Buffer {
  return Buffer.from(`secrets-ledger/data-key/v1\n${eventId}\n${kid}`);
}

export class DecryptionError extends Error {
  constructor(message: string) {
    super(`decryption failed: ${message}`);
    this.name = 'DecryptionError';
  }
}
