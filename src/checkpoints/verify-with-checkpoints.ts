import type { KeyObject } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log';
import { verifyChain } from '../audit/chain-verifier';
import type { VerifyWithCheckpointsResult } from '../contract/api-types';
import type { SignedCheckpoint } from './checkpoint';
import { checkCheckpoints } from './checkpoint-check';

/**
 * The whole verify (chain and tables), then the log held against checkpoints kept off the box:
 * what the chain alone cannot show, a log cut short or rewritten from some row on with every
 * later hash recomputed. `ok` only when both hold.
 */
export async function verifyWithCheckpoints(
  log: AuditLog,
  checkpoints: readonly SignedCheckpoint[],
  publicKey: KeyObject,
  onProgress?: (seq: number) => void,
): Promise<VerifyWithCheckpointsResult> {
  const result = await verifyChain(log, onProgress);
  const report = await checkCheckpoints(log.session, checkpoints, publicKey);
  return { ...result, ok: result.ok && report.problems.length === 0, checkpoints: report };
}
