import { EventStore } from '../event-store/event-store';
import { SECRET_EVENT_TYPES } from '../event-store/stored-event-types';
import type { Storage } from '../storage/sql';
import { evolve } from './domain/decider';
import { SecretFact } from './domain/events';
import { ABSENT, SecretState } from './domain/secret-state';
import { SecretsReadModel } from './secrets-read-model';

export interface RebuildResult {
  /** Secret-state events replayed (other event types in the log are not read). */
  events: number;
  secrets: number;
  revision: number;
}

/**
 * Rebuilds the secrets read model from the log alone: the same `evolve` the inline projection
 * uses, folded over every secret event in `seq` order, in one write transaction (readers see
 * the old model or the new one, never half of each).
 */
export async function rebuildReadModel(
  storage: Storage,
  store: EventStore,
  readModel: SecretsReadModel,
  onProgress: (eventsRead: number) => void = () => undefined,
): Promise<RebuildResult> {
  return storage.transact(async (tx) => {
    const states = new Map<string, SecretState>();
    let revision = 0;
    const events = await store.forEachEvent(
      tx,
      SECRET_EVENT_TYPES,
      (replayed) => {
        const event = replayed as SecretFact;
        const key = event.data.key;
        states.set(key, evolve(states.get(key) ?? ABSENT, event));
        revision = Math.max(revision, event.data.revision ?? 0);
      },
      onProgress,
    );
    await readModel.clear(tx);
    for (const state of states.values()) await readModel.save(tx, state);
    await readModel.setRevision(tx, revision);
    return { events, secrets: states.size, revision };
  });
}
