import type { Database, Statement } from 'better-sqlite3';
import { SYSTEM_ACTOR } from '../auth/principal';
import type { MasterKeyring } from '../crypto/master-keyring';
import type { Actor } from '../event-store/event';
import { ANY_VERSION, EventStore } from '../event-store/event-store';
import { StoredEventType } from '../event-store/stored-event-types';
import type { SqliteWriter } from '../storage/sqlite-writer';

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
  private readonly stmt: {
    oldKids: Statement<[string], { kid: string }>;
    countOld: Statement<[string], { n: number }>;
    nextBatch: Statement<[string, number], { event_id: string; kid: string; wrapped: Buffer }>;
    update: Statement<[string, Buffer, string]>;
    uses: Statement<[string], { n: number }>;
  };

  constructor(
    db: Database,
    private readonly writer: SqliteWriter,
    private readonly store: EventStore,
    private readonly keyring: MasterKeyring,
  ) {
    this.stmt = {
      oldKids: db.prepare('SELECT DISTINCT kid FROM data_keys WHERE kid != ? ORDER BY kid'),
      countOld: db.prepare('SELECT COUNT(*) AS n FROM data_keys WHERE kid != ?'),
      nextBatch: db.prepare('SELECT event_id, kid, wrapped FROM data_keys WHERE kid != ? LIMIT ?'),
      update: db.prepare('UPDATE data_keys SET kid = ?, wrapped = ? WHERE event_id = ?'),
      uses: db.prepare('SELECT COUNT(*) AS n FROM data_keys WHERE kid = ?'),
    };
  }

  /** How many data keys a rotation would rewrap now. */
  pending(): number {
    return this.stmt.countOld.get(this.keyring.activeKid)?.n ?? 0;
  }

  async rotate(onProgress?: (rewrapped: number) => void, actor: Actor = SYSTEM_ACTOR): Promise<RotationResult> {
    const to = this.keyring.activeKid;
    const from = this.stmt.oldKids.all(to).map((row) => row.kid);
    let rewrapped = 0;
    for (;;) {
      // A key missing from the keyring throws here, rolls back this batch and stops the run:
      // nothing is ever left wrapped by a key nobody has.
      const done = await this.writer.write(() => {
        const batch = this.stmt.nextBatch.all(to, BATCH);
        for (const row of batch) {
          const next = this.keyring.rewrap(row.kid, row.wrapped, row.event_id);
          this.stmt.update.run(next.kid, next.wrapped, row.event_id);
        }
        return batch.length;
      });
      if (done === 0) break;
      rewrapped += done;
      onProgress?.(rewrapped);
    }
    const [event] = await this.writer.write(() =>
      this.store.appendToStream(MASTER_KEYS_STREAM, ANY_VERSION, [{ type: StoredEventType.MasterKeyRotated, data: { from, to, rewrapped } }], actor),
    );
    const retirable = this.keyring.kids().filter((kid) => kid !== this.keyring.activeKid && (this.stmt.uses.get(kid)?.n ?? 0) === 0);
    return { from, to, rewrapped, retirable, seq: event.seq };
  }
}
