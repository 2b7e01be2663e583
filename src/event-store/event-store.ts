import { v7 as timeOrderedId } from 'uuid';
import type { MasterKeyring } from '../crypto/master-keyring';
import type { SqlSession, WriteTransaction } from '../storage/sql';
import { Actor, EventRow, NewEvent, RecordedEvent, ReplayedEvent, toRecordedEvent } from './event';
import { indexEventKeys } from './event-key-index';
import { checkExpectedVersion } from './expected-version';
import { GENESIS_HASH, hashRow } from './hash-chain';
import { Clock, nextStamp, systemClock } from './log-clock';
import { logRows } from './log-rows';
import { readReplayPage, replayPages } from './replay';
import { OpenedValues, ValueEnvelopes, ValueRef } from './value-envelopes';

export { ANY_VERSION } from './expected-version';
export { systemClock } from './log-clock';
export type { Clock } from './log-clock';
export type { OpenedValues, UnreadableValue, ValueRef } from './value-envelopes';

/**
 * The append-only log, the same on both engines. An append runs inside a write transaction of
 * the storage's queue, which serialises appends (one batch at a time per process; the engine's
 * lock across processes): that is what makes `seq` gap-free in commit order and the hash chain
 * linear. Reads take whichever session they are given: the storage's reader, or a transaction.
 */
export class EventStore {
  private readonly envelopes: ValueEnvelopes;

  constructor(
    keyring: MasterKeyring,
    private readonly clock: Clock = systemClock,
    // Time-ordered (UUIDv7) rather than random: an event id is indexed twice (events.id and
    // data_keys' key), and a random one dirties a random leaf page of each index per event, all
    // of which the commit writes and syncs (docs/BENCHMARKS.md, "Figures behind design choices").
    // The order they reveal is the order `seq` already states.
    private readonly newId: () => string = timeOrderedId,
    envelopes?: ValueEnvelopes,
  ) {
    this.envelopes = envelopes ?? new ValueEnvelopes(keyring);
  }

  /**
   * Appends `events` to `stream` if the stream is at `expectedVersion` (0: the stream must not
   * exist; ANY_VERSION: no check).
   */
  async appendToStream(tx: WriteTransaction, stream: string, expectedVersion: number, events: NewEvent[], actor: Actor): Promise<RecordedEvent[]> {
    const { head, version: current } = await logRows.headAndStreamVersion(tx, stream);
    checkExpectedVersion(stream, expectedVersion, current);
    let seq = head?.seq ?? 0;
    let prevHash = head?.hash ?? GENESIS_HASH;
    let version = current;
    const at = nextStamp(this.clock, head?.at);
    const actorJson = JSON.stringify({ id: actor.id, name: actor.name, role: actor.role });

    const recorded: RecordedEvent[] = [];
    for (const event of events) {
      seq += 1;
      version += 1;
      const id = this.newId();
      const sealed = event.value === undefined ? undefined : this.envelopes.seal(event.value, stream, version, id);
      const unhashed = {
        seq,
        id,
        stream,
        version,
        type: event.type,
        data: JSON.stringify(event.data),
        ciphertext: sealed?.ciphertext ?? null,
        actor: actorJson,
        at,
        prev_hash: prevHash,
      };
      const row: EventRow = { ...unhashed, hash: hashRow(unhashed) };
      await logRows.insert(tx, row, sealed?.dataKey);
      indexEventKeys(tx, event.keys, seq);
      prevHash = row.hash;
      recorded.push(toRecordedEvent(row));
    }
    return recorded;
  }

  streamVersion(session: SqlSession, stream: string): Promise<number> {
    return logRows.streamVersion(session, stream);
  }

  /** How many events of these types the log holds (for progress bars). */
  count(session: SqlSession, types: readonly string[]): Promise<number> {
    return logRows.count(session, types);
  }

  async head(session: SqlSession): Promise<{ seq: number; hash: string }> {
    const head = await logRows.head(session);
    return head ? { seq: head.seq, hash: head.hash } : { seq: 0, hash: GENESIS_HASH };
  }

  async readStream(session: SqlSession, stream: string): Promise<RecordedEvent[]> {
    return (await logRows.readStream(session, stream)).map(toRecordedEvent);
  }

  /** The newest event of these types: its seq and value-free data (undefined on a log without one). */
  async last(session: SqlSession, types: readonly string[]): Promise<{ seq: number; data: object } | undefined> {
    const row = await logRows.lastOfTypes(session, types);
    return row && { seq: row.seq, data: JSON.parse(row.data) as object };
  }

  /** One page of `replay`: at most `limit` events of these types after `afterSeq`. */
  replayPage(session: SqlSession, types: readonly string[], afterSeq: number, limit: number): Promise<ReplayedEvent[]> {
    return readReplayPage(session, types, afterSeq, limit);
  }

  /**
   * Calls `visit` with every event of these types, in seq order (a rebuild's fold), and
   * `onProgress` with how many it has read after each page and once at the end; resolves with
   * how many there were.
   */
  async forEachEvent(session: SqlSession, types: readonly string[], visit: (event: ReplayedEvent) => void, onProgress: (eventsRead: number) => void = () => undefined): Promise<number> {
    let read = 0;
    for await (const page of replayPages(session, types)) {
      page.forEach(visit);
      read += page.length;
      onProgress(read);
    }
    onProgress(read);
    return read;
  }

  /** The events of these types after `afterSeq`, in seq order, `pageSize` at a time. */
  replay(session: SqlSession, types: readonly string[], afterSeq = 0, pageSize = 5_000): AsyncGenerator<ReplayedEvent[]> {
    return replayPages(session, types, afterSeq, pageSize);
  }

  /** Deletes the data key of one stored value: that value can never be opened again. */
  destroyValue(tx: WriteTransaction, ref: ValueRef): Promise<void> {
    return this.envelopes.destroy(tx, ref);
  }

  /** The values of these events, each opened only as a value of the stream it is asked for. */
  openValues(session: SqlSession, refs: readonly ValueRef[]): Promise<OpenedValues> {
    return this.envelopes.open(session, refs);
  }
}
