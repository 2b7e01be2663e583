/**
 * The JSON the HTTP API (SPEC §3) takes and gives, one definition for every side of it: the
 * service's controllers return these, its OpenAPI DTOs are checked against them
 * (test/unit/api-contract.spec.ts), and the SDK, the CLI and the console read them. No imports:
 * the SDK and the console's browser bundle load this file without loading the service.
 */

export const ROLES = ['admin', 'executor', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** Who caused an event: a token's id, name and role, or `system`. */
export interface Actor {
  id: string;
  name: string;
  role: string;
}

/** One page of a cursor-paged list: pass `next` back as `after`; null on the last page. */
export interface Page<T> {
  items: T[];
  next: string | null;
}

/** A list that is never paged. */
export interface Items<T> {
  items: T[];
}

/** A secret's metadata: never its value. `version` travels as the ETag. */
export interface SecretMeta {
  key: string;
  description: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  updatedBy: string;
}

export interface AddSecretRequest {
  key: string;
  value: string;
  description?: string;
}

/** A value, a description, or both. */
export interface ChangeSecretRequest {
  value?: string;
  description?: string;
}

/** One version of a secret, as its history lists it. */
export interface SecretHistoryEntry {
  version: number;
  type: string;
  at: string;
  actor: Actor;
  description?: string;
  valueChanged?: boolean;
}

/** A token as a listing shows it: never the token or its hash. */
export interface TokenInfo {
  id: string;
  name: string;
  role: Role;
  /** null: any plugin. */
  plugins: string[] | null;
  createdAt: string;
  /** null while active. */
  revokedAt: string | null;
}

export interface IssueTokenRequest {
  name: string;
  role: Role;
  plugins?: string[];
}

/** The answer to an issue: the only time the token itself is shown. */
export interface IssuedToken extends Omit<TokenInfo, 'revokedAt'> {
  token: string;
}

/** The caller's own identity. */
export interface Whoami {
  id: string;
  name: string;
  role: Role;
}

export interface ResolveRequest {
  plugin: string;
  keys: string[];
}

/** The only answer that carries values. */
export interface ResolveReply {
  secrets: Record<string, string>;
  missing: string[];
  /** Keys whose stored value failed its integrity check: never returned, never guessed. */
  unreadable: string[];
  /** The store-wide revision this answer reflects: the only revision a client trusts. */
  revision: number;
}

export interface RotateMasterKeyRequest {
  /** The key id the caller expects to be active (SECRETS_MASTER_KEYS). */
  activeKid?: string;
}

/** What a master-key rotation did. */
export interface MasterKeyRotationReport {
  /** The key ids data keys were wrapped with before. */
  from: string[];
  /** The active key id every data key is wrapped with now. */
  to: string;
  rewrapped: number;
  /** Key ids no data key uses and no live instance wraps with: they may be removed. */
  retirable: string[];
  /** The seq of the MasterKeyRotated event. */
  seq: number;
  /** The development key generated for this rotation (development key file only). */
  generated?: string;
}

/** One row of the log as reviewers see it. `data` is value-free by construction. */
export interface AuditEntry {
  seq: number;
  id: string;
  type: string;
  /** Secret events only: the key, and the secret's version. */
  key?: string;
  version?: number;
  actor: Actor;
  at: string;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** A point of the hash chain; seq 0 and an empty hash for an empty log. */
export interface ChainPoint {
  seq: number;
  hash: string;
}

/** The newest event: moves with every append. */
export interface AuditHead extends ChainPoint {
  at: string | null;
}

/**
 * One place where a table outside the hash chain says something the log does not (`audit
 * verify`): the table, the secret's `key` or the token's `id`, the field, and why.
 */
export interface StateDisagreement {
  table: 'secrets' | 'tokens';
  key?: string;
  id?: string;
  field: string;
  reason: string;
}

export interface VerifyResult {
  /** The chain holds and every checked table agrees with the log. */
  ok: boolean;
  checked: number;
  head: ChainPoint;
  brokenAt?: number;
  reason?: string;
  /** Where the read model or the tokens table disagrees with the log (empty: nowhere). */
  disagreements: StateDisagreement[];
}
