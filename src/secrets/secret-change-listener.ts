import { DiscoveryService } from '@nestjs/core';
import type { RecordedSecretEvent } from './domain/events';

/**
 * Told after a secret-state change has committed. The NATS relay uses this only as a wake-up
 * call: what it publishes it reads from the log, so a listener that misses a call loses nothing.
 */
export interface SecretChangeListener {
  secretsChanged(events: RecordedSecretEvent[]): void;
}

/** Marks a provider implementing SecretChangeListener; SecretsService discovers them at start. */
export const ListensToSecretChanges = DiscoveryService.createDecorator<void>();
