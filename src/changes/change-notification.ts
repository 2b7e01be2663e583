import type { ChangeNotification } from '../contract/change-notification';
import type { ReplayedEvent } from '../event-store/event';

/** Built from the event's value-free facts only; the ciphertext is never read here. */
export function changeNotification(event: ReplayedEvent): ChangeNotification {
  const data = event.data as { key: string; revision: number };
  return {
    type: event.type as ChangeNotification['type'],
    key: data.key,
    version: event.version,
    revision: data.revision,
    seq: event.seq,
    eventId: event.id,
    at: event.at,
  };
}
