import type { EventStore } from '../event-store/event-store';
import type { Actor } from '../event-store/event';
import { StoredEventType } from '../event-store/stored-event-types';
import type { Storage } from '../storage/sql';
import { ResolveRead, SecretConsumers } from './secret-consumers';

export interface ConsumersRebuildResult {
  /** `SecretsResolved` entries replayed. */
  entries: number;
  /** Rows written: one per key, token and plugin that ever read it. */
  rows: number;
}

/** What the projection needs of a `SecretsResolved` entry's data. */
interface ResolvedKeys {
  plugin: string;
  keys: { key: string; version: number }[];
}

/**
 * Rebuilds `secret_consumers` from the log alone: every `SecretsResolved` entry in `seq` order,
 * each read of a key by a token and plugin standing in for the ones before it, as the live
 * projection does when the entry is written (SecretConsumers.record). The newest read per row is
 * folded in memory first — rows, not entries, are what a million-entry log holds few of — and
 * the table is replaced in one write transaction: readers see the old rows or the new ones.
 */
export async function rebuildConsumers(
  storage: Storage,
  store: EventStore,
  consumers: SecretConsumers,
  onProgress: (entriesRead: number) => void = () => undefined,
): Promise<ConsumersRebuildResult> {
  return storage.transact(async (tx) => {
    const newest = new Map<string, ResolveRead>();
    const entries = await store.forEachEvent(
      tx,
      [StoredEventType.SecretsResolved],
      (entry) => {
        const actor = entry.actor as Actor;
        const { plugin, keys } = entry.data as ResolvedKeys;
        for (const read of keys) {
          newest.set(JSON.stringify([read.key, actor.id, plugin]), { tokenId: actor.id, tokenName: actor.name, plugin, keys: [read], at: entry.at, seq: entry.seq });
        }
      },
      onProgress,
    );
    await consumers.clear(tx);
    newest.forEach((read) => consumers.record(tx, read));
    return { entries, rows: newest.size };
  });
}
