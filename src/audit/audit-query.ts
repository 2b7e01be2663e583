import { FieldError, ValidationError } from '../common/errors';
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
const EVENT_TYPE = /^[A-Za-z][A-Za-z0-9]{0,63}$/;
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
    if (EVENT_TYPE.test(type)) filter.type = type;
    else errors.push({ field: 'type', message: 'must be an event type such as SecretAdded' });
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
export function encodeCursor(seq: number): string {
  return Buffer.from(JSON.stringify({ seq }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): number | undefined {
  try {
    const { seq } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Number.isSafeInteger(seq) && seq >= 0 ? seq : undefined;
  } catch {
    return undefined;
  }
}

function refuseUnknown(raw: Raw, allowed: readonly string[], errors: FieldError[]): void {
  for (const field of Object.keys(raw)) {
    if (!allowed.includes(field)) errors.push({ field, message: 'is not a known parameter' });
  }
}

function throwIfAny(errors: FieldError[]): void {
  if (errors.length > 0) throw new ValidationError('The audit query is invalid.', errors);
}

export interface AuditPageQuery {
  filter: AuditFilter;
  afterSeq: number;
  limit: number;
}

/** `GET /audit`: the filters, the cursor (`after`) and the page size (`limit`). */
export function parseAuditPageQuery(raw: Raw): AuditPageQuery {
  const errors: FieldError[] = [];
  refuseUnknown(raw, [...FILTER_FIELDS, 'after', 'limit'], errors);
  const filter = parseAuditFilter(raw, errors);
  let afterSeq = 0;
  if (raw.after !== undefined) {
    const seq = typeof raw.after === 'string' ? decodeCursor(raw.after) : undefined;
    if (seq === undefined) errors.push({ field: 'after', message: 'must be a cursor returned as next by a previous page' });
    else afterSeq = seq;
  }
  let limit = DEFAULT_PAGE_LIMIT;
  if (raw.limit !== undefined) {
    limit = typeof raw.limit === 'string' && /^\d{1,4}$/.test(raw.limit) ? Number(raw.limit) : NaN;
    if (!(limit >= 1 && limit <= MAX_PAGE_LIMIT)) errors.push({ field: 'limit', message: `must be an integer from 1 to ${MAX_PAGE_LIMIT}` });
  }
  throwIfAny(errors);
  return { filter, afterSeq, limit };
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
