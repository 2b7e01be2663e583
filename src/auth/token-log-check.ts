import { hashDigest } from './token-secret';
import type { Role } from './principal';

/** A tokens row as stored: state outside the hash chain, which anyone who can write the database can edit. */
export interface StoredTokenRow {
  id: string;
  name: string;
  role: Role;
  plugins: string[] | null;
  tokenHash: string;
  createdAt: string;
  revokedAt: string | null;
}

/** What `TokenIssued` records (SPEC §1); `hashDigest` is absent from tokens issued before it was recorded. */
export interface TokenIssuedData {
  id: string;
  name: string;
  role: Role;
  plugins: string[] | null;
  hashDigest?: string;
}

/** What the log says of one token: its `TokenIssued` (if any) and when it was revoked (null: never). */
export interface TokenInLog {
  issued?: { data: TokenIssuedData; at: string };
  revokedAt: string | null;
}

export type TokenField = 'issued' | 'name' | 'role' | 'plugins' | 'hash' | 'createdAt' | 'revokedAt';

export interface TokenDisagreement {
  field: TokenField;
  reason: string;
}

/**
 * Where a tokens row disagrees with the log's `TokenIssued`/`TokenRevoked` events: the one rule
 * authentication refuses a token by, and `audit verify` reports by. Empty when they agree.
 * Reasons name fields and the log's facts, never the hash.
 */
export function tokenDisagreements(row: StoredTokenRow, log: TokenInLog): TokenDisagreement[] {
  const issued = log.issued;
  if (!issued) return [{ field: 'issued', reason: 'the log has no TokenIssued event for this token' }];
  const found: TokenDisagreement[] = [];
  const differs = (field: TokenField, inRow: unknown, inLog: unknown) => {
    if (JSON.stringify(inRow) !== JSON.stringify(inLog)) found.push({ field, reason: `the row says ${JSON.stringify(inRow)}; the log says ${JSON.stringify(inLog)}` });
  };
  if (issued.data.id !== row.id) found.push({ field: 'issued', reason: 'the TokenIssued event of this stream names another token' });
  differs('name', row.name, issued.data.name);
  differs('role', row.role, issued.data.role);
  differs('plugins', row.plugins, issued.data.plugins);
  differs('createdAt', row.createdAt, issued.at);
  differs('revokedAt', row.revokedAt, log.revokedAt);
  if (issued.data.hashDigest !== undefined && issued.data.hashDigest !== hashDigest(row.tokenHash)) {
    found.push({ field: 'hash', reason: 'the row holds the hash of another token than the one the log issued' });
  }
  return found;
}
