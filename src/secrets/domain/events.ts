import type { NewEvent, RecordedEvent, ReplayedEvent } from '../../event-store/event';

/**
 * Stable wire names. They are stored in the log and published on NATS: never rename one;
 * add a new type instead.
 */
export const SecretEventType = {
  SecretAdded: 'SecretAdded',
  SecretUpdated: 'SecretUpdated',
  SecretRemoved: 'SecretRemoved',
} as const;
export type SecretEventType = (typeof SecretEventType)[keyof typeof SecretEventType];

export const SECRET_EVENT_TYPES: readonly string[] = Object.values(SecretEventType);

/** `revision` is the store-wide count of secret-state events, stamped when the event is appended. */
export interface SecretAddedData {
  key: string;
  description: string;
  revision?: number;
}
export interface SecretUpdatedData {
  key: string;
  /** Present only when the description changed. */
  description?: string;
  valueChanged: boolean;
  revision?: number;
}
export interface SecretRemovedData {
  key: string;
  revision?: number;
}

export type SecretAdded = NewEvent<'SecretAdded', SecretAddedData>;
export type SecretUpdated = NewEvent<'SecretUpdated', SecretUpdatedData>;
export type SecretRemoved = NewEvent<'SecretRemoved', SecretRemovedData>;
export type SecretEvent = SecretAdded | SecretUpdated | SecretRemoved;

export type RecordedSecretEvent =
  | RecordedEvent<'SecretAdded', SecretAddedData>
  | RecordedEvent<'SecretUpdated', SecretUpdatedData>
  | RecordedEvent<'SecretRemoved', SecretRemovedData>;

/** The facts `evolve` folds: a recorded secret event, with or without its chain hashes. */
export type SecretFact =
  | ReplayedEvent<'SecretAdded', SecretAddedData>
  | ReplayedEvent<'SecretUpdated', SecretUpdatedData>
  | ReplayedEvent<'SecretRemoved', SecretRemovedData>;

export function isSecretEvent(event: RecordedEvent): event is RecordedSecretEvent {
  return SECRET_EVENT_TYPES.includes(event.type);
}

export function secretStream(key: string): string {
  return `secret-${key}`;
}
