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
  /** ISO-8601 UTC; absent: never expires. */
  expiresAt?: string;
  /** Present when the expiry has passed, or falls within the service's warning window. */
  expiry?: 'expired' | 'expiring';
}

export interface AddSecretRequest {
  key: string;
  value: string;
  description?: string;
  /** RFC 3339; absent: never expires. */
  expiresAt?: string;
}

/** A value, a description, an expiry, or any of them together. */
export interface ChangeSecretRequest {
  value?: string;
  description?: string;
  /** RFC 3339; null clears the expiry. */
  expiresAt?: string | null;
}

/** `POST /secrets/{key}/rollback`: the version whose value becomes current again. */
export interface RollbackSecretRequest {
  toVersion: number;
}

/** One item of `GET /secrets/{key}/consumers`: a token's last read of the key for one plugin. */
export interface SecretConsumer {
  tokenId: string;
  /** The token's name when it read. */
  tokenName: string;
  plugin: string;
  /** The key's version that read returned. */
  version: number;
  resolvedAt: string;
  /** Whether that version carries the key's current value (a description-only change leaves it current). */
  current: boolean;
  /** Not current more than a minute after the change, the secret still active and the token not revoked. */
  stale: boolean;
}

/** One version of a secret, as its history lists it. */
export interface SecretHistoryEntry {
  version: number;
  type: string;
  at: string;
  actor: Actor;
  description?: string;
  valueChanged?: boolean;
  /** A rollback: the version whose value it sealed again. */
  toVersion?: number;
  /** The value this version holds was destroyed: when and by whom. */
  destroyed?: { at: string; by: string };
  /** Added: the expiry, if one was set; Updated: the new one (null: cleared), only when it changed. */
  expiresAt?: string | null;
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
  /** When it last authenticated, to the minute; null: never. A hint kept outside the chain. */
  lastUsedAt: string | null;
}

export interface IssueTokenRequest {
  name: string;
  role: Role;
  plugins?: string[];
}

/** The answer to an issue: the only time the token itself is shown. */
export interface IssuedToken extends Omit<TokenInfo, 'revokedAt' | 'lastUsedAt'> {
  token: string;
}

/** The caller's own identity. */
export interface Whoami {
  id: string;
  name: string;
  role: Role;
}

/** How many keys one resolve may ask for (and one values-mode change stream name). */
export const MAX_KEYS_PER_RESOLVE = 256;

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
  /**
   * With SECRETS_REFUSE_EXPIRED=true on the service, keys whose expiry has passed: not returned,
   * so a client treats them as it treats missing ones. Present only when there are some.
   */
  expired?: string[];
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
  table: 'secrets' | 'tokens' | 'data_keys';
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

/**
 * - `forged`: the signature does not verify with the key given (the checkpoint proves nothing)
 * - `rewritten`: the log's hash at the checkpoint's seq is not the one signed
 * - `truncated`: the log ends before the newest checkpoint's seq
 * - `missing`: a checkpoint's `previous` is not the seq of the one before it in the list
 */
export type CheckpointProblemKind = 'forged' | 'rewritten' | 'truncated' | 'missing';

export interface CheckpointProblem {
  seq: number;
  kind: CheckpointProblemKind;
  reason: string;
}

/** What signed checkpoints kept elsewhere showed about the log. */
export interface CheckpointReport {
  /** Checkpoints read. */
  checked: number;
  /** The highest seq a genuine checkpoint covers (0: none). */
  newestSeq: number;
  /** The key the signatures were checked with. */
  keyId: string;
  problems: CheckpointProblem[];
}

/** `POST /audit/verify` with checkpoints: the chain's verification and what the checkpoints showed. */
export type VerifyWithCheckpointsResult = VerifyResult & { checkpoints: CheckpointReport };
