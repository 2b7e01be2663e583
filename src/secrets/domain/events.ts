import type { NewEvent, RecordedEvent, ReplayedEvent } from '../../event-store/event';
import { StoredEventType, isSecretEventType } from '../../event-store/stored-event-types';

type Added = typeof StoredEventType.SecretAdded;
type Updated = typeof StoredEventType.SecretUpdated;
type Removed = typeof StoredEventType.SecretRemoved;
type RolledBack = typeof StoredEventType.SecretRolledBack;
type Destroyed = typeof StoredEventType.SecretVersionDestroyed;

/** `revision` is the store-wide count of secret-state events, stamped when the event is appended. */
export interface SecretAddedData {
  key: string;
  description: string;
  /** ISO-8601 UTC; absent: never expires. */
  expiresAt?: string;
  revision?: number;
}
export interface SecretUpdatedData {
  key: string;
  /** Present only when the description changed. */
  description?: string;
  valueChanged: boolean;
  /** Present only when the expiry changed: ISO-8601 UTC, or null once cleared. */
  expiresAt?: string | null;
  revision?: number;
}
export interface SecretRemovedData {
  key: string;
  revision?: number;
}

/** `version` is the version this event makes (its own); `toVersion` the one whose value it seals again. */
export interface SecretRolledBackData {
  key: string;
  version: number;
  toVersion: number;
  revision?: number;
}
/** `version` is the version whose sealed value can no longer be opened. */
export interface SecretVersionDestroyedData {
  key: string;
  version: number;
}

export type SecretAdded = NewEvent<Added, SecretAddedData>;
export type SecretUpdated = NewEvent<Updated, SecretUpdatedData>;
export type SecretRemoved = NewEvent<Removed, SecretRemovedData>;
/**
 * A rollback as the decider emits it: which stored value to seal again (`valueOf`), not the value
 * itself, which only the service can open. The service swaps it for the opened `value`.
 */
export type SecretRolledBack = NewEvent<RolledBack, SecretRolledBackData> & { valueOf?: { eventId: string; version: number } };
export type SecretEvent = SecretAdded | SecretUpdated | SecretRemoved | SecretRolledBack;
export type SecretVersionDestroyed = NewEvent<Destroyed, SecretVersionDestroyedData>;

export type RecordedSecretEvent =
  | RecordedEvent<Added, SecretAddedData>
  | RecordedEvent<Updated, SecretUpdatedData>
  | RecordedEvent<Removed, SecretRemovedData>
  | RecordedEvent<RolledBack, SecretRolledBackData>;

/** The facts `evolve` folds: a recorded secret event, with or without its chain hashes. */
export type SecretFact =
  | ReplayedEvent<Added, SecretAddedData>
  | ReplayedEvent<Updated, SecretUpdatedData>
  | ReplayedEvent<Removed, SecretRemovedData>
  | ReplayedEvent<RolledBack, SecretRolledBackData>;

/** A version's data key deleted: recorded on the key's `destroyed-<KEY>` stream, not its own. */
export type DestructionFact = ReplayedEvent<Destroyed, SecretVersionDestroyedData>;

export function isSecretEvent(event: RecordedEvent): event is RecordedSecretEvent {
  return isSecretEventType(event.type);
}

export function secretStream(key: string): string {
  return `secret-${key}`;
}

export function destroyedStream(key: string): string {
  return `destroyed-${key}`;
}

export function isDestructionEvent(event: RecordedEvent): event is RecordedEvent<Destroyed, SecretVersionDestroyedData> {
  return event.type === StoredEventType.SecretVersionDestroyed;
}
