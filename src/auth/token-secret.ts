import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const TOKEN_PREFIX = 'slt_';

/** A bearer token: 256 random bits, recognisable by its prefix in secret scanners. */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * Tokens are stored only as SHA-256 hashes. A fast hash is right here: the input has 256 bits
 * of entropy, so there is nothing for a slow password hash to protect against.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * What a `TokenIssued` event records of the token, to bind the tokens row to the log: the
 * SHA-256 of the stored hash, domain-separated, so the audit trail holds neither the token nor
 * the hash the table looks tokens up by. A row whose hash was swapped no longer matches it.
 */
export function hashDigest(tokenHash: string): string {
  return createHash('sha256').update(`secrets-ledger/token-hash/v1\n${tokenHash}`, 'utf8').digest('hex');
}
