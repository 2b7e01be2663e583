import type { KeyObject } from 'node:crypto';
import type { CheckpointProblem, CheckpointReport } from '../contract/api-types';
import { logRows } from '../event-store/log-rows';
import type { SqlSession } from '../storage/sql';
import { SignedCheckpoint, signatureHolds } from './checkpoint';
import { checkpointLog } from './checkpoint-log';
import { keyIdOf } from './signing-key';

/**
 * Holds the log against checkpoints kept elsewhere (the sink's file): each signature is checked
 * with `publicKey`, and each genuine checkpoint's seq and hash against the log. A forged one is
 * set aside, never used as evidence either way. Truncation is named once, at the newest
 * checkpoint past the log's end.
 */
export async function checkCheckpoints(session: SqlSession, checkpoints: readonly SignedCheckpoint[], publicKey: KeyObject): Promise<CheckpointReport> {
  const keyId = keyIdOf(publicKey);
  const head = (await logRows.head(session))?.seq ?? 0;
  const problems: CheckpointProblem[] = [];
  let newestSeq = 0;
  let truncation: CheckpointProblem | undefined;
  let before: SignedCheckpoint | undefined;
  for (const checkpoint of checkpoints) {
    const { seq } = checkpoint;
    if (!signatureHolds(checkpoint, publicKey)) {
      const named = checkpoint.keyId === keyId ? '' : ` (it names key ${checkpoint.keyId})`;
      problems.push({ seq, kind: 'forged', reason: `the signature of the checkpoint at seq ${seq} does not verify with key ${keyId}${named}` });
      continue;
    }
    if (before !== undefined && checkpoint.previous !== before.seq) {
      problems.push({ seq, kind: 'missing', reason: `the checkpoint at seq ${seq} follows the one at seq ${checkpoint.previous}, and the list has seq ${before.seq} before it` });
    }
    before = checkpoint;
    newestSeq = Math.max(newestSeq, seq);
    if (seq > head) {
      truncation = { seq, kind: 'truncated', reason: `the log ends at seq ${head}, before the checkpoint at seq ${seq}: events were removed from its end` };
      continue;
    }
    const logged = await checkpointLog.event(session, seq);
    if (logged?.hash !== checkpoint.hash) {
      problems.push({ seq, kind: 'rewritten', reason: `the log's hash at seq ${seq} is not the one the checkpoint signed: the log was rewritten at or before seq ${seq}` });
    }
  }
  if (truncation) problems.push(truncation);
  return { checked: checkpoints.length, newestSeq, keyId, problems };
}
