import type { EventRow } from '../event-store/event';
import { GENESIS_HASH, hashRow } from '../event-store/hash-chain';
import type { AuditLog } from './audit-log';
import type { VerifyResult } from '../contract/api-types';
import { checkStateAgainstLog } from './state-check';

export interface ChainBreak {
  brokenAt: number;
  reason: string;
}

/**
 * Walks the log in seq order and checks what the chain promises: seqs are contiguous from 1,
 * each row's prevHash is the hash of the row before, and each hash is the SHA-256 of its
 * row. It stops at the first break. It can be fed incrementally, which is how readiness keeps
 * up with new rows without re-reading old ones.
 */
export class ChainVerifier {
  private last = { seq: 0, hash: GENESIS_HASH };
  private failure: ChainBreak | undefined;
  private previousTurn: Promise<unknown> = Promise.resolve();
  checked = 0;

  get verifiedSeq(): number {
    return this.last.seq;
  }

  get broken(): ChainBreak | undefined {
    return this.failure;
  }

  /** Checks the next row; false once the chain is broken (later rows prove nothing). */
  accept(row: EventRow): boolean {
    if (this.failure) return false;
    this.checked += 1;
    const expected = this.last.seq + 1;
    if (row.seq !== expected) {
      this.failure = { brokenAt: expected, reason: `seq ${expected} is missing: the row after seq ${this.last.seq} is seq ${row.seq} (deleted row)` };
    } else if (row.prev_hash !== this.last.hash) {
      this.failure = { brokenAt: row.seq, reason: `prevHash of seq ${row.seq} is not the hash of seq ${this.last.seq}` };
    } else if (hashRow(row) !== row.hash) {
      this.failure = { brokenAt: row.seq, reason: `the hash of seq ${row.seq} does not match its content (edited row)` };
    } else {
      this.last = { seq: row.seq, hash: row.hash };
      return true;
    }
    return false;
  }

  /**
   * Feeds rows after what has been verified, at most `maxRows`; returns how many were read.
   * Callers take turns: a second walk started from the same verified seq would feed the rows the
   * first one accepts meanwhile again, and report an intact log broken.
   */
  advance(log: AuditLog, maxRows = Number.POSITIVE_INFINITY): Promise<number> {
    const turn = this.previousTurn.then(() => this.walk(log, maxRows));
    this.previousTurn = turn.catch(() => undefined);
    return turn;
  }

  private async walk(log: AuditLog, maxRows: number): Promise<number> {
    let read = 0;
    for await (const page of log.pages({}, undefined, this.last.seq)) {
      for (const row of page) {
        read += 1;
        if (!this.accept(row)) return read;
      }
      if (read >= maxRows) break;
    }
    return read;
  }
}

/**
 * Verifies the whole log, then the state kept beside it: the secrets read model and the tokens
 * table are held against a replay of the log (`state-check.ts`). The log's pages give the event
 * loop a turn between them (AuditLog.pages), so a service verifying a million rows keeps
 * answering other requests meanwhile.
 */
export async function verifyChain(log: AuditLog, onProgress?: (seq: number) => void): Promise<VerifyResult> {
  const verifier = new ChainVerifier();
  const until = (await log.head()).seq;
  for await (const page of log.pages({}, until)) {
    if (!page.every((row) => verifier.accept(row))) break;
    onProgress?.(verifier.verifiedSeq);
  }
  const disagreements = await checkStateAgainstLog(log.session);
  const head = await log.head();
  const result: VerifyResult = {
    ok: verifier.broken === undefined && disagreements.length === 0,
    checked: verifier.checked,
    head: { seq: head.seq, hash: head.hash },
    disagreements,
  };
  return verifier.broken ? { ...result, ...verifier.broken } : result;
}
