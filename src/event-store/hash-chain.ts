import { createHash } from 'node:crypto';
import type { EventRow } from './event';

/** prevHash of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The canonical form of a row is a JSON array of its columns in a fixed order, with `data` and
 * `actor` as the exact stored text and the ciphertext as base64. Any change to any stored
 * column, or to the order of rows, changes a hash.
 */
export function canonicalRow(row: Omit<EventRow, 'hash'>): string {
  return JSON.stringify([
    row.seq,
    row.id,
    row.stream,
    row.version,
    row.type,
    row.data,
    row.ciphertext === null ? null : row.ciphertext.toString('base64'),
    row.actor,
    row.at,
    row.prev_hash,
  ]);
}

export function hashRow(row: Omit<EventRow, 'hash'>): string {
  return createHash('sha256').update(canonicalRow(row)).digest('hex');
}
