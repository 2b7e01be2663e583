import { VersionMismatchError } from '../common/errors';

/** Append without an expectation about the stream's version (audit-only streams). */
export const ANY_VERSION = -1;

/** Optimistic concurrency: the stream must be at `expected` (0: must not exist), unless ANY_VERSION. */
export function checkExpectedVersion(stream: string, expected: number, current: number): void {
  if (expected !== ANY_VERSION && expected !== current) throw new VersionMismatchError(stream, expected, current);
}
