/**
 * SPEC §4, the NATS side of the contract, shared by the service and the SDK. No imports: the SDK
 * loads this file without loading the service.
 */

/** What `secrets.changed.<KEY>` carries. Metadata only: never a value or ciphertext. */
export interface ChangeNotification {
  type: 'SecretAdded' | 'SecretUpdated' | 'SecretRemoved';
  key: string;
  /** The key's version (1, 2, … continuing across remove and re-add). */
  version: number;
  /** The store-wide count of secret-state events: contiguous, so a gap means one was missed. */
  revision: number;
  seq: number;
  eventId: string;
  at: string;
}

export const CHANGED_SUBJECT_PREFIX = 'secrets.changed.';
export const ALL_CHANGES_SUBJECT = `${CHANGED_SUBJECT_PREFIX}>`;
export const RESOLVE_SUBJECT = 'secrets.resolve';

export function changedSubject(key: string): string {
  return CHANGED_SUBJECT_PREFIX + key;
}

/** `secrets.resolve` request; the reply is the HTTP resolve body or a ResolveErrorReply. */
export interface ResolveRequestMessage {
  token: string;
  plugin: string;
  keys: string[];
}

export interface ResolveReply {
  secrets: Record<string, string>;
  missing: string[];
  revision: number;
}

export interface ResolveErrorReply {
  error: { status: number; title: string; detail: string };
}
