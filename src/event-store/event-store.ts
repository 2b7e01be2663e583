import type { Database, Statement } from 'better-sqlite3';
import { v7 as timeOrderedId } from 'uuid';
import { VersionMismatchError } from '../common/errors';
import { newDataKey, open, seal, valueAad } from '../crypto/envelope';
import type { MasterKeyring } from '../crypto/master-keyring';
import { OpenedValueCache } from '../crypto/opened-value-cache';
import { SecretValue } from '../crypto/secret-value';
import type { SqliteWriter } from '../storage/sqlite-writer';
import { Actor, EventRow, NewEvent, RecordedEvent, ReplayedEvent, toRecordedEvent } from './event';
import { GENESIS_HASH, hashRow } from './hash-chain';

type SealedValueRow = { id: string; stream: string; version: number; ciphertext: Buffer | null; kid: string; wrapped: Buffer };

type ReplayRow = [number, string, string, number, string, string, string, string, 0 | 1];

/** Why a stored value could not be opened; `version` is the version that sealed it, when known. */
export interface UnreadableValue {
  version?: number;
  reason: string;
}

/** Values by the id of the event that sealed them, and the ones that would not open. */
export interface OpenedValues {
  values: Map<string, SecretValue>;
  unreadable: Map<string, UnreadableValue>;
}

/** Append without an expectation about the stream's version (audit-only streams). */
export const ANY_VERSION = -1;

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * The append-only log. Appends are synchronous and must run inside a write transaction of the
 * SqliteWriter: that is what makes `seq` gap-free and the hash chain linear.
 */
export class EventStore {
  private readonly stmt: {
    head: Statement<[], { seq: number; hash: string; at: string }>;
    streamVersion: Statement<[string], { version: number | null }>;
    insert: Statement<EventRow>;
    insertDataKey: Statement<{ event_id: string; kid: string; wrapped: Buffer }>;
    insertKey: Statement<[string, number]>;
    sealedValues: Statement<[string], SealedValueRow>;
    readStream: Statement<[string], EventRow>;
  };
  private readonly replayStatements = new Map<string, Statement<unknown[]>>();

  constructor(
    private readonly db: Database,
    private readonly writer: SqliteWriter,
    private readonly keyring: MasterKeyring,
    private readonly clock: Clock = systemClock,
    // Time-ordered (UUIDv7) rather than random: an event id is indexed twice (events.id and
    // data_keys' key), and a random one dirties a random leaf page of each index per event, all
    // of which the commit writes to the WAL and syncs. Measured on a 100k-event file: a commit of
    // 17 appends took 3.8-4.7 ms with random ids, 2.6-2.8 ms with these. (The order they reveal
    // is the order `seq` already states.)
    private readonly newId: () => string = timeOrderedId,
    private readonly openedValues = new OpenedValueCache(),
  ) {
    this.stmt = {
      head: db.prepare('SELECT seq, hash, at FROM events ORDER BY seq DESC LIMIT 1'),
      streamVersion: db.prepare('SELECT MAX(version) AS version FROM events WHERE stream = ?'),
      insert: db.prepare(
        `INSERT INTO events (seq, id, stream, version, type, data, ciphertext, actor, at, prev_hash, hash)
         VALUES (@seq, @id, @stream, @version, @type, @data, @ciphertext, @actor, @at, @prev_hash, @hash)`,
      ),
      insertDataKey: db.prepare('INSERT INTO data_keys (event_id, kid, wrapped) VALUES (@event_id, @kid, @wrapped)'),
      insertKey: db.prepare('INSERT INTO event_keys (key, seq) VALUES (?, ?)'),
      sealedValues: db.prepare(
        `SELECT e.id, e.stream, e.version, e.ciphertext, k.kid, k.wrapped
           FROM events e JOIN data_keys k ON k.event_id = e.id WHERE e.id IN (SELECT value FROM json_each(?))`,
      ),
      readStream: db.prepare('SELECT * FROM events WHERE stream = ? ORDER BY version'),
    };
  }

  /**
   * Appends `events` to `stream` if the stream is at `expectedVersion` (0: the stream must not
   * exist; ANY_VERSION: no check). Values are sealed here, at the storage boundary, so no
   * plaintext ever reaches a row.
   */
  appendToStream(stream: string, expectedVersion: number, events: NewEvent[], actor: Actor): RecordedEvent[] {
    if (!this.db.inTransaction) throw new Error('appendToStream must run inside SqliteWriter.write()');
    const current = this.streamVersion(stream);
    if (expectedVersion !== ANY_VERSION && expectedVersion !== current) {
      throw new VersionMismatchError(stream, expectedVersion, current);
    }
    const head = this.stmt.head.get();
    let seq = head?.seq ?? 0;
    let prevHash = head?.hash ?? GENESIS_HASH;
    let version = current;
    // Time in the log never goes backwards: a clock stepped back (NTP) must not stamp an event
    // earlier than the one before it, so that time order and seq order agree (the audit API
    // turns time filters into seq ranges on that promise).
    const now = this.clock.now().toISOString();
    const at = head && head.at > now ? head.at : now;
    const actorJson = JSON.stringify({ id: actor.id, name: actor.name, role: actor.role });

    return events.map((event) => {
      seq += 1;
      version += 1;
      const id = this.newId();
      let ciphertext: Buffer | null = null;
      let wrappedKey: { kid: string; wrapped: Buffer } | undefined;
      if (event.value !== undefined) {
        const dataKey = newDataKey();
        ciphertext = seal(dataKey, Buffer.from(event.value.reveal(), 'utf8'), valueAad(stream, version, id));
        wrappedKey = this.keyring.wrap(dataKey, id);
        dataKey.fill(0);
      }
      const unhashed = {
        seq,
        id,
        stream,
        version,
        type: event.type,
        data: JSON.stringify(event.data),
        ciphertext,
        actor: actorJson,
        at,
        prev_hash: prevHash,
      };
      const row: EventRow = { ...unhashed, hash: hashRow(unhashed) };
      this.stmt.insert.run(row);
      // After the event row: the data key row references it.
      if (wrappedKey) this.stmt.insertDataKey.run({ event_id: id, ...wrappedKey });
      // Key rows go in at the end of the batch: a resolve's dozen rows land on a dozen index
      // pages, and inside the job's savepoint each page would first be journaled (SqliteWriter.defer).
      if (event.keys && event.keys.length > 0) {
        const keys = new Set(event.keys);
        const eventSeq = seq;
        this.writer.defer(() => keys.forEach((key) => this.stmt.insertKey.run(key, eventSeq)));
      }
      prevHash = row.hash;
      return toRecordedEvent(row);
    });
  }

  streamVersion(stream: string): number {
    return this.stmt.streamVersion.get(stream)?.version ?? 0;
  }

  /** How many events of these types the log holds (for progress bars). */
  count(types: readonly string[]): number {
    const row = this.db.prepare(`SELECT COUNT(*) AS n FROM events WHERE type IN (${types.map(() => '?').join(', ')})`).get(...types) as { n: number };
    return row.n;
  }

  head(): { seq: number; hash: string } {
    const head = this.stmt.head.get();
    return head ? { seq: head.seq, hash: head.hash } : { seq: 0, hash: GENESIS_HASH };
  }

  readStream(stream: string): RecordedEvent[] {
    return this.stmt.readStream.all(stream).map(toRecordedEvent);
  }

  /**
   * Events of the given types in `seq` order, as facts for a replay (see ReplayedEvent). Rows
   * come back as arrays (`raw`), which spares an object per row on a million-row replay.
   */
  *replay(types: readonly string[], afterSeq = 0, pageSize = 5_000): Generator<ReplayedEvent> {
    const statement = this.replayStatement(types);
    let cursor = afterSeq;
    for (;;) {
      const page = statement.all(...types, cursor, pageSize) as ReplayRow[];
      if (page.length === 0) return;
      for (const [seq, id, stream, version, type, data, actor, at, hasValue] of page) {
        yield { seq, id, stream, version, type, data: JSON.parse(data), actor: JSON.parse(actor), at, hasValue: hasValue === 1 };
      }
      cursor = page[page.length - 1][0];
    }
  }

  private replayStatement(types: readonly string[]): Statement<unknown[]> {
    const cacheKey = types.join(',');
    let statement = this.replayStatements.get(cacheKey);
    if (!statement) {
      statement = this.db
        .prepare(
          // `+type` keeps SQLite on the seq order of the table itself: through the type index
          // it sorted every call in a temporary B-tree, ~5x slower for the relay's small reads
          // near the head, which sit between a commit and its notification.
          `SELECT seq, id, stream, version, type, data, actor, at, ciphertext IS NOT NULL
             FROM events WHERE +type IN (${types.map(() => '?').join(', ')}) AND seq > ? ORDER BY seq LIMIT ?`,
        )
        .raw(true);
      this.replayStatements.set(cacheKey, statement);
    }
    return statement;
  }

  /**
   * The values of many events. Those opened recently come from the cache; the rest are read in
   * one statement and decrypted. A value that does not open (its ciphertext or wrapped data key
   * altered, its master key not configured, its row gone) is never guessed: it is listed in
   * `unreadable` with the reason, and the others open as usual.
   */
  openValues(eventIds: readonly string[]): OpenedValues {
    const values = new Map<string, SecretValue>();
    const unreadable = new Map<string, UnreadableValue>();
    const toOpen: string[] = [];
    for (const id of eventIds) {
      const cached = this.openedValues.get(id);
      if (cached) values.set(id, cached);
      else toOpen.push(id);
    }
    if (toOpen.length === 0) return { values, unreadable };
    const rows = new Map(this.stmt.sealedValues.all(JSON.stringify(toOpen)).map((row) => [row.id, row]));
    for (const id of toOpen) {
      const row = rows.get(id);
      if (!row) {
        unreadable.set(id, { reason: 'no sealed value or data key is stored for it' });
        continue;
      }
      const opened = this.openSealed(row);
      if (opened instanceof SecretValue) {
        this.openedValues.set(row.id, opened);
        values.set(row.id, opened);
      } else {
        unreadable.set(id, { version: row.version, reason: opened.reason });
      }
    }
    return { values, unreadable };
  }

  private openSealed(row: SealedValueRow): SecretValue | { reason: string } {
    if (row.ciphertext === null) return { reason: 'the event carries no ciphertext' };
    let dataKey: Buffer;
    try {
      dataKey = this.keyring.unwrap(row.kid, row.wrapped, row.id);
    } catch (error) {
      return { reason: `the data key does not open: ${error instanceof Error ? error.message : String(error)}` };
    }
    try {
      return new SecretValue(open(dataKey, row.ciphertext, valueAad(row.stream, row.version, row.id)).toString('utf8'));
    } catch (error) {
      return { reason: `the ciphertext does not open: ${error instanceof Error ? error.message : String(error)}` };
    } finally {
      dataKey.fill(0);
    }
  }
}
