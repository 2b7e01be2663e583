import type { SecretValue } from '../crypto/secret-value';
import type { StoredEventType } from './stored-event-types';

/** Who caused an event. Recorded on every row of the log. */
export interface Actor {
  id: string;
  name: string;
  role: string;
}

/**
 * An event as a decider emits it: a wire name from the catalogue, value-free data, and at most
 * one value to seal.
 */
export interface NewEvent<Type extends StoredEventType = StoredEventType, Data = object> {
  type: Type;
  data: Data;
  /** Sealed by the store with envelope encryption; never stored or hashed in plaintext. */
  value?: SecretValue;
  /**
   * The secret keys this event concerns (a secret event: its own key; a resolve: every key it
   * asked for), indexed in `event_keys` for the audit trail's key filter. Each must also be in
   * the event's stream or data, which the hash covers.
   */
  keys?: readonly string[];
}

/** An event as the log holds it. */
export interface RecordedEvent<Type extends string = string, Data = object> {
  seq: number;
  id: string;
  stream: string;
  version: number;
  type: Type;
  data: Data;
  actor: Actor;
  at: string;
  hasValue: boolean;
  prevHash: string;
  hash: string;
}

/** Raw row shape, as stored. `data` and `actor` stay the exact JSON text that was hashed. */
export interface EventRow {
  seq: number;
  id: string;
  stream: string;
  version: number;
  type: string;
  data: string;
  ciphertext: Buffer | null;
  actor: string;
  at: string;
  prev_hash: string;
  hash: string;
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    seq: row.seq,
    id: row.id,
    stream: row.stream,
    version: row.version,
    type: row.type,
    data: JSON.parse(row.data),
    actor: JSON.parse(row.actor),
    at: row.at,
    hasValue: row.ciphertext !== null,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/**
 * What a replay needs of an event: the facts, without the ciphertext and the chain hashes, whose
 * reading and allocating made a replay markedly slower (docs/BENCHMARKS.md, Figures behind
 * design choices).
 */
export type ReplayedEvent<Type extends string = string, Data = object> = Omit<RecordedEvent<Type, Data>, 'prevHash' | 'hash'>;
