/**
 * A verify result as the verifier or `GET /audit/verify` gives it. Only `ok` is relied on; the
 * fields below are shown in the summary line, and any other field (a list of disagreements, a
 * newer check's figures) is printed after it as it came, so a richer result needs no CLI change.
 */
export interface VerifyReport {
  ok: boolean;
  checked?: number;
  head?: { seq: number; hash: string };
  brokenAt?: number;
  reason?: string;
  [field: string]: unknown;
}

const SUMMARISED = new Set(['ok', 'checked', 'head', 'brokenAt', 'reason', 'checkpoints']);

interface CheckpointsReport {
  checked: number;
  newestSeq: number;
  keyId: string;
  problems: { seq: number; kind: string; reason: string }[];
}

/** The checkpoints' verdict (`--checkpoints`): a line, then one line per problem. */
function checkpointLines(report: CheckpointsReport): string[] {
  const head = `checkpoints: ${report.checked} checked with key ${report.keyId}, the newest genuine one at seq ${report.newestSeq}`;
  if (report.problems.length === 0) return [`${head}; the log agrees with every one`];
  return [`${head}; ${report.problems.length} problem(s):`, ...report.problems.map((p) => `  - ${p.kind.toUpperCase()} at seq ${p.seq}: ${p.reason}`)];
}

function summary(result: VerifyReport): string {
  const head = result.head ? `head seq ${result.head.seq}` : 'no head';
  if (result.ok) return `ok: ${result.checked} events checked; ${head}${result.head ? ` hash ${result.head.hash}` : ''}`;
  if (result.brokenAt !== undefined) return `BROKEN at seq ${result.brokenAt}: ${result.reason}\n(${result.checked} events read; ${head})`;
  return `NOT OK${result.reason ? `: ${result.reason}` : ''}\n(${result.checked} events checked; ${head})`;
}

function detail(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The text `audit verify` prints: the summary, then every further field, a list item a line. */
export function renderVerifyResult(result: VerifyReport): string {
  const lines = [summary(result)];
  if (result.checkpoints) lines.push(...checkpointLines(result.checkpoints as CheckpointsReport));
  for (const [field, value] of Object.entries(result)) {
    // An empty list (no disagreements) says nothing the summary line has not said.
    if (SUMMARISED.has(field) || value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    if (Array.isArray(value)) {
      lines.push(`${field}: ${value.length}`, ...value.map((item) => `  - ${detail(item)}`));
    } else {
      lines.push(`${field}: ${detail(value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
