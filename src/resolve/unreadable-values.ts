import { Injectable, Logger } from '@nestjs/common';
import type { HealthIndicatorService } from '@nestjs/terminus';
import type { NewEvent } from '../event-store/event';
import { StoredEventType } from '../event-store/stored-event-types';
import { ReadinessCheck, ReadinessIndicator } from '../health/readiness';

export { INTEGRITY_STREAM } from '../event-store/stored-event-types';

export interface UnreadableSighting {
  key: string;
  version: number;
  /** The event named as the key's value: one sighting per key and event, not per resolve. */
  eventId: string;
  reason: string;
}

/** A row pointed at another key's event is a sighting of its own, apart from that key's. */
export const sightingId = (sighting: UnreadableSighting) => `${sighting.key}\n${sighting.eventId}`;

/**
 * Stored values that would not open (SPEC §3, integrity failures). Each is recorded once per
 * process as a `SecretUnreadable` event {key, version, reason}, however often it is asked for,
 * so repeated resolves of a tampered value cannot grow the log; and it turns `valueIntegrity`
 * in /health/ready down, as a broken chain does: someone must look at the file. It is never
 * repaired or replaced by a guess; a new version of the secret makes the key readable again.
 */
@Injectable()
@ReadinessCheck()
export class UnreadableValues implements ReadinessIndicator {
  private readonly logger = new Logger('ValueIntegrity');
  private readonly recorded = new Map<string, UnreadableSighting & { at: string }>();

  get count(): number {
    return this.recorded.size;
  }

  /** The events to append for sightings not recorded yet; call `recordedAll` once they are durable. */
  eventsFor(sightings: readonly UnreadableSighting[]): NewEvent[] {
    return sightings
      .filter((sighting) => !this.recorded.has(sightingId(sighting)))
      .map(({ key, version, reason }) => ({ type: StoredEventType.SecretUnreadable, data: { key, version, reason }, keys: [key] }));
  }

  recordedAll(sightings: readonly UnreadableSighting[]): void {
    for (const sighting of sightings) {
      if (this.recorded.has(sightingId(sighting))) continue;
      this.recorded.set(sightingId(sighting), { ...sighting, at: new Date().toISOString() });
      this.logger.error(`the stored value of ${sighting.key} version ${sighting.version} does not open (${sighting.reason}). Not repaired; investigate.`);
    }
  }

  check(indicators: HealthIndicatorService) {
    const indicator = indicators.check('valueIntegrity');
    if (this.recorded.size === 0) return indicator.up({ unreadable: [] });
    // The first hundred are enough to start with; `count` says how many there are.
    const unreadable = [...this.recorded.values()].slice(0, 100).map(({ key, version, reason, at }) => ({ key, version, reason, at }));
    return indicator.down({ count: this.recorded.size, unreadable });
  }
}
