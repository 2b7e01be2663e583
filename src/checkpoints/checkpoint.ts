import { KeyObject, verify } from 'node:crypto';

/** The stream every AuditCheckpoint is appended to. */
export const CHECKPOINT_STREAM = 'audit-checkpoints';

/**
 * SPEC §3: a statement that the log's event `seq` had hash `hash`, made at `at`; `previous` is
 * the `seq` of the checkpoint before (0 for the first), so a list with one missing shows a gap.
 */
export interface Checkpoint {
  seq: number;
  hash: string;
  at: string;
  previous: number;
}

/**
 * A checkpoint with its Ed25519 signature: the data of the AuditCheckpoint event, one line of the
 * sink file, one item of `GET /audit/checkpoints`, all the same JSON.
 */
export interface SignedCheckpoint extends Checkpoint {
  keyId: string;
  signature: string;
}

/**
 * The signed bytes: a domain tag (so that the key signs nothing else that could pass for a
 * checkpoint) and the four fields, in a fixed order, as JSON.
 */
export function signedMessage(checkpoint: Checkpoint): Buffer {
  return Buffer.from(JSON.stringify(['secrets-ledger checkpoint v1', checkpoint.seq, checkpoint.hash, checkpoint.at, checkpoint.previous]), 'utf8');
}

export function signatureHolds(checkpoint: SignedCheckpoint, publicKey: KeyObject): boolean {
  try {
    return verify(null, signedMessage(checkpoint), publicKey, Buffer.from(checkpoint.signature, 'base64'));
  } catch {
    return false;
  }
}

/** One JSON line, as the file sink writes it and `audit verify --checkpoints` reads it. */
export function checkpointLine(checkpoint: SignedCheckpoint): string {
  const { seq, hash, at, previous, keyId, signature } = checkpoint;
  return `${JSON.stringify({ seq, hash, at, previous, keyId, signature })}\n`;
}

/** Why a checkpoints file cannot be read, line by line; never a line's content (it came from outside). */
export class CheckpointFileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The checkpoints of a file the sink wrote (one JSON object a line; blank lines ignored), in
 * the file's order. Every malformed line is named by its number.
 */
export function parseCheckpointLines(text: string): SignedCheckpoint[] {
  const items: unknown[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      items.push(JSON.parse(line));
    } catch {
      problems.push(`line ${index + 1} is not JSON`);
      items.push(undefined);
    }
  });
  if (problems.length > 0) throw new CheckpointFileError(problems.slice(0, 10));
  return parseCheckpoints(items, 'line');
}

/** Checkpoints as parsed JSON (the API's body, a file's lines); `item` words the problems (item 3, line 3). */
export function parseCheckpoints(items: readonly unknown[], item = 'item'): SignedCheckpoint[] {
  const checkpoints: SignedCheckpoint[] = [];
  const problems: string[] = [];
  items.forEach((value, index) => {
    const c = value as Partial<SignedCheckpoint>;
    const wellFormed =
      typeof c === 'object' &&
      c !== null &&
      Number.isSafeInteger(c.seq) &&
      c.seq! >= 1 &&
      typeof c.hash === 'string' &&
      HEX64.test(c.hash) &&
      typeof c.at === 'string' &&
      Number.isSafeInteger(c.previous) &&
      c.previous! >= 0 &&
      typeof c.keyId === 'string' &&
      typeof c.signature === 'string';
    if (!wellFormed) problems.push(`${item} ${index + 1} is not a checkpoint (seq, hash, at, previous, keyId, signature)`);
    else checkpoints.push({ seq: c.seq!, hash: c.hash!, at: c.at!, previous: c.previous!, keyId: c.keyId!, signature: c.signature! });
  });
  if (problems.length > 0) throw new CheckpointFileError(problems.slice(0, 10));
  if (checkpoints.length === 0) throw new CheckpointFileError(['no checkpoint given']);
  return checkpoints;
}
