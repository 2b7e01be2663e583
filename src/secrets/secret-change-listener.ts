import type { RecordedSecretEvent } from './domain/events';

/**
 * Told after a secret-state change has committed. The NATS relay uses this only as a wake-up
 * call: what it publishes it reads from the log, so a listener that misses a call loses nothing.
 */
export interface SecretChangeListener {
  secretsChanged(events: RecordedSecretEvent[]): void;
}

export const SECRET_CHANGE_LISTENERS = Symbol('SECRET_CHANGE_LISTENERS');
