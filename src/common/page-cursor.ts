/**
 * Opaque paging cursors (SPEC §3: `next`, passed back as `after`). Inside is where the last page
 * ended; clients must not build one, so it is encoded, and a cursor that does not decode to the
 * expected shape is refused rather than guessed at.
 */
export function encodeCursor(position: object): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

export function decodeCursor<T>(cursor: unknown, accept: (position: Record<string, unknown>) => T | undefined): T | undefined {
  if (typeof cursor !== 'string' || cursor.length > 1024) return undefined;
  try {
    const position: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return typeof position === 'object' && position !== null ? accept(position as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `limit`: an integer from 1 to `max`; undefined when absent. NaN when given but not one. */
export function parseLimit(raw: unknown, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const limit = typeof raw === 'string' && /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  return limit >= 1 && limit <= max ? limit : NaN;
}
