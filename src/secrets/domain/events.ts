import type { NewEvent, RecordedEvent, ReplayedEvent } from '../../event-store/event';
import { StoredEventType, isSecretEventType } from '../../event-store/stored-event-types';

type Added = typeof StoredEventType.SecretAdded;
type Updated = typeof StoredEventType.SecretUpdated;
type Removed = typeof StoredEventType.SecretRemoved;

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

export type SecretAdded = NewEvent<Added, SecretAddedData>;
export type SecretUpdated = NewEvent<Updated, SecretUpdatedData>;
export type SecretRemoved = NewEvent<Removed, SecretRemovedData>;
export type SecretEvent = SecretAdded | SecretUpdated | SecretRemoved;

export type RecordedSecretEvent =
  | RecordedEvent<Added, SecretAddedData>
  | RecordedEvent<Updated, SecretUpdatedData>
  | RecordedEvent<Removed, SecretRemovedData>;

/** The facts `evolve` folds: a recorded secret event, with or without its chain hashes. */
export type SecretFact =
  | ReplayedEvent<Added, SecretAddedData>
  | ReplayedEvent<Updated, SecretUpdatedData>
  | ReplayedEvent<Removed, SecretRemovedData>;

export function isSecretEvent(event: RecordedEvent): event is RecordedSecretEvent {
  return isSecretEventType(event.type);
}

export function secretStream(key: string): string {
  return `secret-${key}`;
}
