import { StoredEventType } from '../../event-store/stored-event-types';
import type { DestructionFact, SecretFact } from './events';

/**
 * What one version of a secret holds: a value (sealed by the event of version `sealedIn`, which is
 * this version itself unless it changed only the description) or a removal.
 */
export type VersionHolding = { kind: 'value'; valueEventId: string; sealedIn: number } | { kind: 'removal' };

/**
 * Every version of one secret and the versions whose sealed value was destroyed: what a rollback
 * and a destroy decide on, folded from the key's stream and its `destroyed-<KEY>` stream.
 */
export interface SecretVersions {
  readonly holdings: ReadonlyMap<number, VersionHolding>;
  /** Versions whose own sealed value was destroyed. */
  readonly destroyed: ReadonlySet<number>;
}

export const NO_VERSIONS: SecretVersions = { holdings: new Map(), destroyed: new Set() };

export function evolveVersions(versions: SecretVersions, event: SecretFact | DestructionFact): SecretVersions {
  if (event.type === StoredEventType.SecretVersionDestroyed) {
    return { holdings: versions.holdings, destroyed: new Set([...versions.destroyed, event.data.version]) };
  }
  const holdings = new Map(versions.holdings);
  holdings.set(event.version, holdingOf(event, versions.holdings.get(event.version - 1)));
  return { holdings, destroyed: versions.destroyed };
}

function holdingOf(event: SecretFact, previous: VersionHolding | undefined): VersionHolding {
  switch (event.type) {
    case StoredEventType.SecretRemoved:
      return { kind: 'removal' };
    case StoredEventType.SecretUpdated:
      // A description alone keeps the value the version before held.
      if (!event.data.valueChanged && previous) return previous;
      return { kind: 'value', valueEventId: event.id, sealedIn: event.version };
    case StoredEventType.SecretAdded:
    case StoredEventType.SecretRolledBack:
      return { kind: 'value', valueEventId: event.id, sealedIn: event.version };
  }
}

export function foldVersions(events: readonly (SecretFact | DestructionFact)[]): SecretVersions {
  return events.reduce(evolveVersions, NO_VERSIONS);
}

/** Whether the value `version` holds can never be opened again. */
export function isDestroyed(versions: SecretVersions, version: number): boolean {
  const holding = versions.holdings.get(version);
  return holding?.kind === 'value' && versions.destroyed.has(holding.sealedIn);
}
