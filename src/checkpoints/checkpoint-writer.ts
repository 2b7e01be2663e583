import { SYSTEM_ACTOR } from '../auth/principal';
import type { CheckpointSettings } from '../config/configuration';
import type { EventStore } from '../event-store/event-store';
import { logRows } from '../event-store/log-rows';
import { StoredEventType } from '../event-store/stored-event-types';
import type { SqlSession, WriteTransaction } from '../storage/sql';
import { CHECKPOINT_STREAM, Checkpoint, SignedCheckpoint, signedMessage } from './checkpoint';
import { checkpointLog } from './checkpoint-log';
import type { SigningKey } from './signing-key';

/**
 * Appends a signed AuditCheckpoint of the log's head once enough is uncovered: `everyEvents`
 * events since the last checkpoint, or an event older than `intervalMs` that none covers. An idle
 * log gets none (a checkpoint would only cover the checkpoint before it).
 *
 * The signature goes into the event's data. It signs the head *before* the checkpoint event
 * (seq, hash), which the event's own hash cannot change; the event's hash then covers the
 * signature, so neither can be swapped without breaking the chain at that row.
 */
export class CheckpointWriter {
  constructor(
    private readonly store: EventStore,
    private readonly key: SigningKey,
    private readonly settings: Pick<CheckpointSettings, 'everyEvents' | 'intervalMs'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a checkpoint is due; a cheap read, so the write transaction is only opened when one is. */
  async due(s: SqlSession): Promise<boolean> {
    const [latest, head] = await Promise.all([checkpointLog.latest(s), logRows.head(s)]);
    const coveredUpTo = latest?.eventSeq ?? 0;
    const uncovered = (head?.seq ?? 0) - coveredUpTo;
    if (uncovered <= 0) return false;
    if (uncovered >= this.settings.everyEvents) return true;
    const oldest = await checkpointLog.event(s, coveredUpTo + 1);
    return oldest !== undefined && this.now() - Date.parse(oldest.at) >= this.settings.intervalMs;
  }

  /**
   * Inside a write transaction: the head cannot move under it (appends are serialised), and the
   * append expects the checkpoint stream's version it read, so of two instances that both found
   * one due, the second fails its append and writes nothing.
   */
  async writeIfDue(tx: WriteTransaction): Promise<SignedCheckpoint | undefined> {
    if (!(await this.due(tx))) return undefined;
    const [latest, head] = await Promise.all([checkpointLog.latest(tx), logRows.head(tx)]);
    const checkpoint: Checkpoint = { seq: head!.seq, hash: head!.hash, at: new Date(this.now()).toISOString(), previous: latest?.checkpoint.seq ?? 0 };
    const signed: SignedCheckpoint = { ...checkpoint, keyId: this.key.keyId, signature: this.key.sign(signedMessage(checkpoint)) };
    await this.store.appendToStream(tx, CHECKPOINT_STREAM, latest?.version ?? 0, [{ type: StoredEventType.AuditCheckpoint, data: signed }], SYSTEM_ACTOR);
    return signed;
  }
}
