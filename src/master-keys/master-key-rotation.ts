import { SYSTEM_ACTOR } from '../auth/principal';
import { ConflictError } from '../common/errors';
import type { MasterKeyring } from '../crypto/master-keyring';
import type { Actor } from '../event-store/event';
import { ANY_VERSION, EventStore } from '../event-store/event-store';
import { StoredEventType } from '../event-store/stored-event-types';
import type { SqlSession, Storage } from '../storage/sql';
import { describeHolder, keyHolders, lacking } from './key-holders';
import { kidsWrappingDataKeys } from './wrapping-kids';

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
   * Key ids of the keyring that no data key uses any more and that neither this keyring nor any
   * live instance (master_key_holders) wraps new values with: they may be removed.
   */
  retirable: string[];
  seq: number;
}

/**
 * Master-key rotation (SPEC §1): every data key not wrapped by the active master key is
 * unwrapped with its old key and wrapped again with the active one. Only `data_keys` changes;
 * the log is never rewritten (its rows, ciphertexts and hashes stay byte-identical) and gains
 * one `MasterKeyRotated` event saying what was done.
 *
 * Several instances (SPEC §8): it refuses while a live instance lacks the active key, checked
 * again inside every batch's transaction. An instance announces itself in a write transaction
 * too, and only then checks which keys the data keys need: whichever commits first, either the
 * batch sees the new instance and rolls back, or the instance sees the batch and refuses to
 * start. No data key is ever left under a key a live instance lacks.
 */
export class MasterKeyRotation {
  constructor(
    private readonly storage: Storage,
    private readonly store: EventStore,
    private readonly keyring: MasterKeyring,
    /** The instance this rotation runs in (its own row is not another holder), if any. */
    private readonly instance = '',
  ) {}

  /** How many data keys a rotation would rewrap now. */
  async pending(): Promise<number> {
    return (await this.storage.reader.get<{ n: number }>('SELECT COUNT(*) AS n FROM data_keys WHERE kid != ?', [this.keyring.activeKid]))?.n ?? 0;
  }

  async rotate(onProgress?: (rewrapped: number) => void, actor: Actor = SYSTEM_ACTOR): Promise<RotationResult> {
    const to = this.keyring.activeKid;
    await this.refuseIfSomeInstanceLacks(to, this.storage.reader);
    const from = (await this.storage.reader.all<{ kid: string }>('SELECT DISTINCT kid FROM data_keys WHERE kid != ? ORDER BY kid', [to])).map((row) => row.kid);
    let rewrapped = 0;
    for (;;) {
      // A key missing from the keyring throws here, rolls back this batch and stops the run:
      // nothing is ever left wrapped by a key nobody has.
      const done = await this.storage.transact(async (tx) => {
        await this.refuseIfSomeInstanceLacks(to, tx);
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
    return { from, to, rewrapped, retirable: await this.retirable(to), seq: event.seq };
  }

  private async refuseIfSomeInstanceLacks(kid: string, session: SqlSession): Promise<void> {
    const without = lacking(await keyHolders.live(session, this.instance), kid);
    if (without.length === 0) return;
    throw new ConflictError(
      `${without.map(describeHolder).join(', ')} does not hold master key ${kid}: a value rewrapped under it would be unreadable there. ` +
        `Restart every instance with ${kid} in SECRETS_MASTER_KEYS first (docs/MASTER-KEYS.md), then rotate again.`,
    );
  }

  /** Key ids of this keyring that no data key uses and no live instance wraps with. */
  private async retirable(active: string): Promise<string[]> {
    const used = new Set(await kidsWrappingDataKeys(this.storage.reader));
    for (const holder of await keyHolders.live(this.storage.reader, this.instance)) used.add(holder.activeKid);
    return this.keyring.kids().filter((kid) => kid !== active && !used.has(kid));
  }
}
