import { newDataKey, open, seal, valueAad } from '../crypto/envelope';
import type { MasterKeyring } from '../crypto/master-keyring';
import { OpenedValueCache } from '../crypto/opened-value-cache';
import { SecretValue } from '../crypto/secret-value';
import type { SqlSession } from '../storage/sql';
import { SealedValueRow, logRows } from './log-rows';

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

/** A value asked for: the event that sealed it and the stream it must belong to. */
export interface ValueRef {
  eventId: string;
  stream: string;
}

export interface SealedValue {
  ciphertext: Buffer;
  dataKey: { kid: string; wrapped: Buffer };
}

/**
 * Envelope encryption of the log's values: each value is sealed with a data key of its own,
 * bound to its event (stream, version, id) by the AAD, and the data key is wrapped by the active
 * master key. Values are sealed here, at the storage boundary, so no plaintext reaches a row.
 */
export class ValueEnvelopes {
  constructor(
    private readonly keyring: MasterKeyring,
    private readonly opened = new OpenedValueCache(),
  ) {}

  seal(value: SecretValue, stream: string, version: number, eventId: string): SealedValue {
    const dataKey = newDataKey();
    try {
      const ciphertext = seal(dataKey, Buffer.from(value.reveal(), 'utf8'), valueAad(stream, version, eventId));
      return { ciphertext, dataKey: this.keyring.wrap(dataKey, eventId) };
    } finally {
      dataKey.fill(0);
    }
  }

  /**
   * The values of many events, each opened only as a value of the stream it is asked for: the
   * AAD is built from that stream, not from the row, so a value of another key never opens in
   * its place. Those opened recently come from the cache (keyed by stream and event); the rest
   * are read in one statement and decrypted. A value that does not open (its ciphertext or
   * wrapped data key altered, its master key not configured, its row gone, another stream's) is
   * never guessed: it is listed in `unreadable` with the reason, and the others open as usual.
   */
  async open(session: SqlSession, refs: readonly ValueRef[]): Promise<OpenedValues> {
    const values = new Map<string, SecretValue>();
    const unreadable = new Map<string, UnreadableValue>();
    const toOpen: ValueRef[] = [];
    for (const ref of refs) {
      const cached = this.opened.get(cacheKey(ref));
      if (cached) values.set(ref.eventId, cached);
      else toOpen.push(ref);
    }
    if (toOpen.length === 0) return { values, unreadable };
    const rows = new Map((await logRows.sealedValues(session, toOpen.map((ref) => ref.eventId))).map((row) => [row.id, row]));
    for (const ref of toOpen) {
      const row = rows.get(ref.eventId);
      if (!row) {
        unreadable.set(ref.eventId, { reason: 'no sealed value or data key is stored for it' });
        continue;
      }
      const opened = this.openSealed(row, ref.stream);
      if (opened instanceof SecretValue) {
        this.opened.set(cacheKey(ref), opened);
        values.set(ref.eventId, opened);
      } else {
        unreadable.set(ref.eventId, { version: row.version, reason: opened.reason });
      }
    }
    return { values, unreadable };
  }

  /**
   * Deletes the wrapped data key of one value, so the value never opens again: the ciphertext
   * stays in its event row (the chain covers it), and a ciphertext without its key is noise.
   */
  async destroy(session: SqlSession, ref: ValueRef): Promise<void> {
    await logRows.deleteDataKey(session, ref.eventId);
    this.opened.forget(cacheKey(ref));
  }

  private openSealed(row: SealedValueRow, stream: string): SecretValue | { reason: string } {
    if (row.ciphertext === null) return { reason: 'the event carries no ciphertext' };
    let dataKey: Buffer;
    try {
      dataKey = this.keyring.unwrap(row.kid, row.wrapped, row.id);
    } catch (error) {
      return { reason: `the data key does not open: ${error instanceof Error ? error.message : String(error)}` };
    }
    try {
      return new SecretValue(open(dataKey, row.ciphertext, valueAad(stream, row.version, row.id)).toString('utf8'));
    } catch (error) {
      return { reason: `the ciphertext does not open: ${error instanceof Error ? error.message : String(error)}` };
    } finally {
      dataKey.fill(0);
    }
  }
}

/** Stream and event: a cached value is handed out only for the stream it was opened as. */
function cacheKey(ref: ValueRef): string {
  return `${ref.stream}\n${ref.eventId}`;
}
