import { SYSTEM_ACTOR } from '../auth/principal';
import type { MasterKeyring } from '../crypto/master-keyring';
import type { Actor } from '../event-store/event';
import { ANY_VERSION, EventStore } from '../event-store/event-store';
import { StoredEventType } from '../event-store/stored-event-types';
import type { Storage } from '../storage/sql';

export const MASTER_KEYS_STREAM = 'master-keys';

/**
 * Rows rewrapped per write job: small enough that a running service's own requests interleave
 * (a job blocks the event loop while it runs), at the price of a slower rotation. The runs of
 * bench/rotation.ts behind this size are in docs/BENCHMARKS.md (Figures behind design choices).
 */
const BATCH = 100;

export interface RotationResult {
  from: string[];
  to: string;
  rewrapped: number;
  /**
   * Key ids of the keyring that no data key uses any more and that this keyring does not wrap
   * new values with: they may be removed. Computed by the process that owns the database (the
   * running service, or the CLI while it holds the data dir's lock), so no other process can
   * be wrapping values with one of them.
   */
  retirable: string[];
  seq: number;
}

/**
 * Master-key rotation (SPEC §1): every data key not wrapped by the active master key is
 * unwrapped with its old key and wrapped again with the active one. Only `data_keys` changes;
 * the log is never rewritten (its rows, ciphertexts and hashes stay byte-identical) and gains
 * one `MasterKeyRotated` event saying what was done.
 */
export class MasterKeyRotation {
  constructor(
    private readonly storage: Storage,
    private readonly store: EventStore,
    private readonly keyring: MasterKeyring,
  ) {}

  /** How many data keys a rotation would rewrap now. */
  async pending(): Promise<number> {
    return (await this.storage.reader.get<{ n: number }>('SELECT COUNT(*) AS n FROM data_keys WHERE kid != ?', [this.keyring.activeKid]))?.n ?? 0;
  }

  async rotate(onProgress?: (rewrapped: number) => void, actor: Actor = SYSTEM_ACTOR): Promise<RotationResult> {
    const to = this.keyring.activeKid;
    const from = (await this.storage.reader.all<{ kid: string }>('SELECT DISTINCT kid FROM data_keys WHERE kid != ? ORDER BY kid', [to])).map((row) => row.kid);
    let rewrapped = 0;
    for (;;) {
      // A key missing from the keyring throws here, rolls back this batch and stops the run:
      // nothing is ever left wrapped by a key nobody has.
      const done = await this.storage.transact(async (tx) => {
        const batch = await tx.all<{ event_id: string; kid: string; wrapped: Buffer }>('SELECT event_id, kid, wrapped FROM data_keys WHERE kid != ? LIMIT ?', [to, BATCH]);
        for (const row of batch) {
          const next = this.keyring.rewrap(row.kid, row.wrapped, row.event_id);
          await tx.run('UPDATE data_keys SET kid = ?, wrapped = ? WHERE event_id = ?', [next.kid, next.wrapped, row.event_id]);
        }
        return batch.length;
      });
      if (done === 0) break;
      rewrapped += done;
      onProgress?.(rewrapped);
    }
    const [event] = await this.storage.transact((tx) =>
      this.store.appendToStream(tx, MASTER_KEYS_STREAM, ANY_VERSION, [{ type: StoredEventType.MasterKeyRotated, data: { from, to, rewrapped } }], actor),
    );
    const retirable: string[] = [];
    for (const kid of this.keyring.kids()) {
      if (kid === this.keyring.activeKid) continue;
      const uses = (await this.storage.reader.get<{ n: number }>('SELECT COUNT(*) AS n FROM data_keys WHERE kid = ?', [kid]))?.n ?? 0;
      if (uses === 0) retirable.push(kid);
    }
    return { from, to, rewrapped, retirable, seq: event.seq };
  }
}
