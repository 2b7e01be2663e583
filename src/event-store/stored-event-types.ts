/**
 * Every event type the log may hold (SPEC §1), in one table so that a name is never reused for
 * another fact nor renamed: stored rows keep their type for ever, and the audit filter, the
 * console and NATS subscribers match on it. Add a type at the end (the order is the one the
 * audit filter's refusal lists); never edit or remove one.
 *
 * `family` says which streams a type is appended to, and so which consumers fold it: only the
 * `secret` family is secret state (read model, revisions, NATS notifications).
 */
export const STORED_EVENTS = {
  SecretAdded: { family: 'secret' },
  SecretUpdated: { family: 'secret' },
  SecretRemoved: { family: 'secret' },
  SecretsResolved: { family: 'resolution' },
  AccessDenied: { family: 'refusal' },
  AuthenticationFailed: { family: 'refusal' },
  RateLimited: { family: 'refusal' },
  TokenIssued: { family: 'token' },
  TokenRevoked: { family: 'token' },
  MasterKeyRotated: { family: 'master-key' },
  SecretUnreadable: { family: 'integrity' },
  TokenRowRejected: { family: 'integrity' },
  SecretRolledBack: { family: 'secret' },
  SecretVersionDestroyed: { family: 'destruction' },
  AuditCheckpoint: { family: 'checkpoint' },
} as const satisfies Record<string, { family: EventFamily }>;

/**
 * - `secret`: `secret-<KEY>`, a secret's state (the values it seals are in the row's ciphertext)
 * - `resolution`: `resolutions`, an executor read values
 * - `integrity`: `integrity`, a stored value failed to open, or a tokens row disagreed with the log
 * - `refusal`: `access-denied`, `authentication-failures`, `rate-limited`
 * - `token`: `token-<id>`
 * - `master-key`: `master-keys`
 * - `destruction`: `destroyed-<KEY>`, a version's data key deleted; kept off the secret's stream
 *   because it changes no version, value or revision of the secret
 * - `checkpoint`: `audit-checkpoints`, a signed statement of the log's head (src/checkpoints)
 */
/** The stream of the `integrity` family: state outside the chain found to disagree with it. */
export const INTEGRITY_STREAM = 'integrity';

export type EventFamily = 'secret' | 'resolution' | 'integrity' | 'refusal' | 'token' | 'master-key' | 'destruction' | 'checkpoint';

export type StoredEventType = keyof typeof STORED_EVENTS;

/** The wire names, to write `StoredEventType.SecretAdded` rather than a string literal. */
export const StoredEventType = Object.fromEntries(Object.keys(STORED_EVENTS).map((type) => [type, type])) as {
  readonly [Type in StoredEventType]: Type;
};

export const STORED_EVENT_TYPES = Object.keys(STORED_EVENTS) as readonly StoredEventType[];

export function eventTypesOf(family: EventFamily): readonly StoredEventType[] {
  return STORED_EVENT_TYPES.filter((type) => STORED_EVENTS[type].family === family);
}

/** The types that make up a secret's state: what the read model, revisions and NATS notifications follow. */
export const SECRET_EVENT_TYPES = eventTypesOf('secret') as readonly SecretEventType[];

export type SecretEventType = { [Type in StoredEventType]: (typeof STORED_EVENTS)[Type]['family'] extends 'secret' ? Type : never }[StoredEventType];

export function isStoredEventType(type: string): type is StoredEventType {
  return Object.hasOwn(STORED_EVENTS, type);
}

export function isSecretEventType(type: string): type is SecretEventType {
  return isStoredEventType(type) && STORED_EVENTS[type].family === 'secret';
}
