import { FieldError, ValidationError, fieldNameFromRequest } from '../common/errors';
import { decodeCursor, encodeCursor, parseLimit } from '../common/page-cursor';
import { STORED_EVENT_TYPES, isStoredEventType } from '../event-store/stored-event-types';
import { SECRET_KEY_RULE, isValidSecretKey } from '../secrets/domain/secret-key';

/**
 * The filters of `GET /audit`, `/audit/export` and `secrets-ledger audit export`, parsed in one
 * place so that HTTP and the CLI accept exactly the same input.
 *
 * - `type`: an event type (`SecretAdded`, `AccessDenied`, …)
 * - `key`: the events of that secret's own stream (added, updated, removed)
 * - `actor`: an actor **id** (`tok_…`, `system`); names are not unique, ids are
 * - `from` (inclusive) and `to` (exclusive): ISO 8601 timestamps
 */
export interface AuditFilter {
  type?: string;
  key?: string;
  actor?: string;
  from?: string;
  to?: string;
}

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1_000;

const FILTER_FIELDS = ['type', 'key', 'actor', 'from', 'to'] as const;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

type Raw = Record<string, unknown>;

export function parseAuditFilter(raw: Raw, errors: FieldError[]): AuditFilter {
  const filter: AuditFilter = {};
  const text = (field: string): string | undefined => {
    const value = raw[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value === '') {
      errors.push({ field, message: 'must be given once, as a non-empty string' });
      return undefined;
    }
    return value;
  };
  const type = text('type');
  if (type !== undefined) {
    if (isStoredEventType(type)) filter.type = type;
    else errors.push({ field: 'type', message: `must be one of ${STORED_EVENT_TYPES.join(', ')}` });
  }
  const key = text('key');
  if (key !== undefined) {
    if (isValidSecretKey(key)) filter.key = key;
    else errors.push({ field: 'key', message: SECRET_KEY_RULE });
  }
  const actor = text('actor');
  if (actor !== undefined) {
    if (actor.length <= 200) filter.actor = actor;
    else errors.push({ field: 'actor', message: 'must be an actor id of at most 200 characters' });
  }
  for (const field of ['from', 'to'] as const) {
    const value = text(field);
    if (value === undefined) continue;
    const time = ISO_TIMESTAMP.test(value) ? new Date(value) : undefined;
    // Stored times are toISOString() (UTC, milliseconds), so normalised bounds compare as text.
    if (time && !Number.isNaN(time.getTime())) filter[field] = time.toISOString();
    else errors.push({ field, message: 'must be an ISO 8601 timestamp such as 2026-01-31T12:00:00Z' });
  }
  if (filter.from !== undefined && filter.to !== undefined && filter.from >= filter.to) {
    errors.push({ field: 'to', message: 'must be later than from' });
  }
  return filter;
}

/** The cursor is opaque to clients; inside it is the last seq of the page they have seen. */
export function encodeAuditCursor(seq: number): string {
  return encodeCursor({ seq });
}

function decodeAuditCursor(cursor: unknown): number | undefined {
  return decodeCursor(cursor, ({ seq }) => (typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : undefined));
}

function refuseUnknown(raw: Raw, allowed: readonly string[], errors: FieldError[]): void {
  for (const field of Object.keys(raw)) {
    if (!allowed.includes(field)) errors.push({ field: fieldNameFromRequest(field), message: 'is not a known parameter' });
  }
}

function throwIfAny(errors: FieldError[]): void {
  if (errors.length > 0) throw new ValidationError('The audit query is invalid.', errors);
}

export const AUDIT_ORDERS = ['asc', 'desc'] as const;

/**
 * Where a page starts. `asc`: the entries with a seq above `seq` (0: from the first). `desc`:
 * newest first, the entries with a seq below `seq` (undefined: from the head).
 */
export type AuditPosition = { order: 'asc'; seq: number } | { order: 'desc'; seq: number | undefined };

export interface AuditPageQuery {
  filter: AuditFilter;
  position: AuditPosition;
  limit: number;
}

/**
 * `GET /audit`: the filters, the order (`asc`, the default, or `desc`), where to start (the cursor
 * `after`, or `start`, a seq the page begins at) and the page size (`limit`). A cursor continues
 * in the order it was made in, so the order must be given again with it.
 */
export function parseAuditPageQuery(raw: Raw): AuditPageQuery {
  const errors: FieldError[] = [];
  refuseUnknown(raw, [...FILTER_FIELDS, 'order', 'after', 'start', 'limit'], errors);
  const filter = parseAuditFilter(raw, errors);
  const order = raw.order ?? 'asc';
  if (!AUDIT_ORDERS.includes(order as 'asc')) errors.push({ field: 'order', message: `must be one of ${AUDIT_ORDERS.join(', ')}` });
  let seq: number | undefined;
  if (raw.after !== undefined && raw.start !== undefined) errors.push({ field: 'start', message: 'cannot be given with after' });
  else if (raw.after !== undefined) {
    seq = decodeAuditCursor(raw.after);
    if (seq === undefined) errors.push({ field: 'after', message: 'must be a cursor returned as next by a previous page' });
  } else if (raw.start !== undefined) {
    const start = typeof raw.start === 'string' && /^\d{1,15}$/.test(raw.start) ? Number(raw.start) : NaN;
    if (start >= 1) seq = order === 'desc' ? start + 1 : start - 1;
    else errors.push({ field: 'start', message: 'must be a seq, an integer of at least 1' });
  }
  const limit = parseLimit(raw.limit, MAX_PAGE_LIMIT) ?? DEFAULT_PAGE_LIMIT;
  if (Number.isNaN(limit)) errors.push({ field: 'limit', message: `must be an integer from 1 to ${MAX_PAGE_LIMIT}` });
  throwIfAny(errors);
  return { filter, position: order === 'desc' ? { order, seq } : { order: 'asc', seq: seq ?? 0 }, limit };
}

export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** `GET /audit/export` and `audit export`: the filters and the format (default NDJSON). */
export function parseAuditExportQuery(raw: Raw): { filter: AuditFilter; format: ExportFormat } {
  const errors: FieldError[] = [];
  refuseUnknown(raw, [...FILTER_FIELDS, 'format'], errors);
  const filter = parseAuditFilter(raw, errors);
  const format = raw.format ?? 'ndjson';
  if (!EXPORT_FORMATS.includes(format as ExportFormat)) errors.push({ field: 'format', message: `must be one of ${EXPORT_FORMATS.join(', ')}` });
  throwIfAny(errors);
  return { filter, format: format as ExportFormat };
}
