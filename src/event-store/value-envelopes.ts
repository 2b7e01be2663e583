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
   * The values of many events. Those opened recently come from the cache; the rest are read in
   * one statement and decrypted. A value that does not open (its ciphertext or wrapped data key
   * altered, its master key not configured, its row gone) is never guessed: it is listed in
   * `unreadable` with the reason, and the others open as usual.
   */
  async open(session: SqlSession, eventIds: readonly string[]): Promise<OpenedValues> {
    const values = new Map<string, SecretValue>();
    const unreadable = new Map<string, UnreadableValue>();
    const toOpen: string[] = [];
    for (const id of eventIds) {
      const cached = this.opened.get(id);
      if (cached) values.set(id, cached);
      else toOpen.push(id);
    }
    if (toOpen.length === 0) return { values, unreadable };
    const rows = new Map((await logRows.sealedValues(session, toOpen)).map((row) => [row.id, row]));
    for (const id of toOpen) {
      const row = rows.get(id);
      if (!row) {
        unreadable.set(id, { reason: 'no sealed value or data key is stored for it' });
        continue;
      }
      const opened = this.openSealed(row);
      if (opened instanceof SecretValue) {
        this.opened.set(row.id, opened);
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
