import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { request } from 'node:https';
import type { CheckpointSink } from '../config/configuration';
import { SignedCheckpoint, checkpointLine } from './checkpoint';

/** Where checkpoints are shipped; `deliver` resolves only once the target holds the checkpoint. */
export interface SinkTarget {
  readonly kind: CheckpointSink['kind'];
  deliver(checkpoint: SignedCheckpoint): Promise<void>;
}

export function sinkTarget(sink: CheckpointSink): SinkTarget {
  return sink.kind === 'file' ? new FileSink(sink.path) : new HttpsSink(sink.url, sink.caFile === undefined ? undefined : readFileSync(sink.caFile));
}

const TAIL_BYTES = 64 * 1024;

/**
 * Appends one JSON line per checkpoint and fsyncs it before the delivery counts. The file is
 * also its own record of what it holds: a checkpoint at or below its last line's seq is already
 * there (the process died after the fsync, before the position was stored) and is not written
 * twice; a last line without its newline was never acknowledged and is cut off.
 */
export class FileSink implements SinkTarget {
  readonly kind = 'file';
  private holdsUpTo: number | undefined;

  constructor(private readonly path: string) {}

  async deliver(checkpoint: SignedCheckpoint): Promise<void> {
    const fd = openSync(this.path, 'a+', 0o600);
    try {
      this.holdsUpTo ??= lastSeqIn(fd);
      if (checkpoint.seq <= this.holdsUpTo) return;
      writeSync(fd, checkpointLine(checkpoint));
      fsyncSync(fd);
      this.holdsUpTo = checkpoint.seq;
    } finally {
      closeSync(fd);
    }
  }
}

/** The seq of the file's last complete line (0: none), after cutting off an unfinished one. */
function lastSeqIn(fd: number): number {
  const size = fstatSync(fd).size;
  if (size === 0) return 0;
  const length = Math.min(size, TAIL_BYTES);
  const tail = Buffer.alloc(length);
  readSync(fd, tail, 0, length, size - length);
  const end = tail.lastIndexOf(0x0a);
  const complete = size - length + end + 1;
  if (complete < size) {
    ftruncateSync(fd, complete);
    fsyncSync(fd);
  }
  const lastLine = end < 0 ? '' : tail.subarray(tail.lastIndexOf(0x0a, end - 1) + 1, end).toString('utf8');
  try {
    const seq = (JSON.parse(lastLine) as { seq?: unknown }).seq;
    return typeof seq === 'number' ? seq : 0;
  } catch {
    return 0;
  }
}

const POST_TIMEOUT_MS = 10_000;

/**
 * POSTs each checkpoint as JSON; any 2xx is delivery. A receiver may see one twice (the process
 * died before it stored the position): the checkpoint's seq identifies it.
 */
export class HttpsSink implements SinkTarget {
  readonly kind = 'https';

  constructor(
    private readonly url: string,
    private readonly ca: Buffer | undefined,
  ) {}

  deliver(checkpoint: SignedCheckpoint): Promise<void> {
    const body = Buffer.from(checkpointLine(checkpoint), 'utf8');
    return new Promise((resolve, reject) => {
      const req = request(
        this.url,
        { method: 'POST', timeout: POST_TIMEOUT_MS, ...(this.ca ? { ca: this.ca } : {}), headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (res) => {
          res.resume();
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`the sink answered HTTP ${status}`));
        },
      );
      req.once('timeout', () => req.destroy(new Error(`the sink did not answer within ${POST_TIMEOUT_MS} ms`)));
      // The error's code or message, never the URL (it may carry credentials).
      req.once('error', (error: NodeJS.ErrnoException) => reject(new Error(error.code ? `cannot reach the sink (${error.code})` : error.message)));
      req.end(body);
    });
  }
}

