import { Inject, Injectable } from '@nestjs/common';
import type { Actor, NewEvent } from '../event-store/event';
import { ANY_VERSION, EventStore } from '../event-store/event-store';
import { StoredEventType } from '../event-store/stored-event-types';
import { SecretConsumers } from '../consumers/secret-consumers';
import { STORAGE, Storage, WriteTransaction } from '../storage/sql';
import { INTEGRITY_STREAM, UnreadableSighting, UnreadableValues, sightingId } from './unreadable-values';

export const RESOLUTIONS_STREAM = 'resolutions';

/** What one answered resolve delivered: the `SecretsResolved` entry's data, apart from `deliveries`. */
export interface Delivery {
  actor: Actor;
  plugin: string;
  read: { key: string; version: number }[];
  missing: string[];
  /** With SECRETS_REFUSE_EXPIRED=true: keys withheld because their expiry passed. */
  expired: string[];
  unreadable: UnreadableSighting[];
  revision: number;
  /** Every key asked for: the entry is indexed under each, so the trail's key filter shows the read. */
  asked: string[];
  /** `stream`: pushed over the executor's values-mode change stream; absent: a resolve. */
  via?: 'stream';
}

interface Entry {
  actor: Actor;
  event: NewEvent<typeof StoredEventType.SecretsResolved, SecretsResolvedData>;
}

export interface SecretsResolvedData {
  plugin: string;
  keys: { key: string; version: number }[];
  missing: string[];
  unreadable?: string[];
  expired?: string[];
  revision: number;
  /** How many identical deliveries the entry stands for; absent for one. */
  deliveries?: number;
  /** `stream`: pushed over values-mode change streams; absent: resolved. */
  via?: 'stream';
}

/** Deliveries waiting for the next write of the queue, and the promise of that write. */
class PendingWrite {
  readonly entries = new Map<string, Entry>();
  /** Each sighting once, with the first actor that saw it. */
  readonly sightings = new Map<string, { actorId: string; sighting: UnreadableSighting }>();
  durable!: Promise<void>;
}

/**
 * The audit trail's record of every value that leaves the service, written before the values
 * are answered. Deliveries that wait for the same write share it: identical ones (same token,
 * plugin, keys and versions, missing and unreadable keys, revision) become one `SecretsResolved`
 * entry with `deliveries: n`, so a burst of executors refreshing the same manifest after a
 * change costs the log one entry per token, not one per resolve. Each caller is answered only
 * once the write holding its delivery has committed.
 */
@Injectable()
export class DeliveryRecords {
  private pending: PendingWrite | undefined;

  constructor(
    @Inject(STORAGE) private readonly storage: Storage,
    private readonly store: EventStore,
    private readonly integrity: UnreadableValues,
    private readonly consumers: SecretConsumers,
  ) {}

  /** Resolves once `delivery` is durable in the audit trail. */
  record(delivery: Delivery): Promise<void> {
    const write = this.pending ?? this.nextWrite();
    const data: SecretsResolvedData = {
      plugin: delivery.plugin,
      keys: delivery.read,
      missing: delivery.missing,
      ...(delivery.unreadable.length > 0 ? { unreadable: delivery.unreadable.map((sighting) => sighting.key) } : {}),
      ...(delivery.expired.length > 0 ? { expired: delivery.expired } : {}),
      revision: delivery.revision,
      ...(delivery.via ? { via: delivery.via } : {}),
    };
    const sameness = JSON.stringify([delivery.actor.id, delivery.actor.name, delivery.actor.role, data, delivery.asked]);
    const entry = write.entries.get(sameness);
    if (entry) entry.event.data.deliveries = (entry.event.data.deliveries ?? 1) + 1;
    else write.entries.set(sameness, { actor: delivery.actor, event: { type: StoredEventType.SecretsResolved, data, keys: delivery.asked } });
    for (const sighting of delivery.unreadable) {
      if (!write.sightings.has(sightingId(sighting))) write.sightings.set(sightingId(sighting), { actorId: delivery.actor.id, sighting });
    }
    return write.durable;
  }

  private nextWrite(): PendingWrite {
    const write = new PendingWrite();
    this.pending = write;
    write.durable = this.storage.transact((tx) => this.append(tx, write)).then(() => this.integrity.recordedAll([...write.sightings.values()].map(({ sighting }) => sighting)));
    return write;
  }

  private async append(tx: WriteTransaction, write: PendingWrite): Promise<void> {
    // From here on, a delivery waits for the next write: this one's entries are being written.
    if (this.pending === write) this.pending = undefined;
    const byActor = new Map<string, { actor: Actor; events: NewEvent[] }>();
    for (const { actor, event } of write.entries.values()) {
      const group = byActor.get(actor.id) ?? { actor, events: [] };
      group.events.push(event);
      byActor.set(actor.id, group);
    }
    for (const { actor, events } of byActor.values()) {
      const seen = [...write.sightings.values()].filter(({ actorId }) => actorId === actor.id).map(({ sighting }) => sighting);
      const firstSightings = this.integrity.eventsFor(seen);
      if (firstSightings.length > 0) await this.store.appendToStream(tx, INTEGRITY_STREAM, ANY_VERSION, firstSightings, actor);
      const recorded = await this.store.appendToStream(tx, RESOLUTIONS_STREAM, ANY_VERSION, events, actor);
      // Who holds which version: each entry's reads, in the same transaction as the entry.
      recorded.forEach((entry, i) => {
        const { plugin, keys } = (events[i] as Entry['event']).data;
        this.consumers.record(tx, { tokenId: actor.id, tokenName: actor.name, plugin, keys, at: entry.at, seq: entry.seq });
      });
    }
  }
}
