import { stringify } from 'csv-stringify/sync';
import { Readable } from 'node:stream';
import type { AuditEntry } from '../contract/api-types';
import { toAuditEntry } from './audit-entry';
import type { AuditLog } from './audit-log';
import type { AuditFilter, ExportFormat } from './audit-query';

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/** CSV columns: the AuditEntry flattened; `data` stays a JSON document in one cell. */
const CSV_COLUMNS = ['seq', 'id', 'type', 'key', 'version', 'actor_id', 'actor_name', 'actor_role', 'at', 'data', 'prev_hash', 'hash'];

/**
 * OWASP's rule against CSV (formula) injection: a cell a spreadsheet may read as a formula (a
 * token named `=HYPERLINK(…)`) gets a leading single quote and is shown as the text it is. That is
 * a cell starting with `=`, `+`, `-`, `@` or `|` — also after leading whitespace or line breaks,
 * which spreadsheets skip, and in their fullwidth forms (`＝＋－＠｜`), which some fold to ASCII —
 * or with a tab or a carriage return. csv-stringify quotes and escapes the rest.
 */
const FORMULA_START = /^(?:[\t\r]|\s*[=+\-@|\uFF1D\uFF0B\uFF0D\uFF20\uFF5C])/;

export function neutraliseFormula(cell: unknown): unknown {
  return typeof cell === 'string' && FORMULA_START.test(cell) ? `'${cell}` : cell;
}

function csvRecord(entry: AuditEntry): unknown[] {
  return csvCells(entry).map(neutraliseFormula);
}

function csvCells(entry: AuditEntry): unknown[] {
  return [
    entry.seq,
    entry.id,
    entry.type,
    entry.key ?? '',
    entry.version ?? '',
    entry.actor.id,
    entry.actor.name,
    entry.actor.role,
    entry.at,
    JSON.stringify(entry.data),
    entry.prevHash,
    entry.hash,
  ];
}

async function* formatted(log: AuditLog, filter: AuditFilter, format: ExportFormat, onPage?: (lastSeq: number) => void): AsyncGenerator<string> {
  if (format === 'csv') yield stringify([CSV_COLUMNS]);
  for await (const rows of log.pages(filter)) {
    const entries = rows.map(toAuditEntry);
    yield format === 'csv' ? stringify(entries.map(csvRecord)) : entries.map((entry) => JSON.stringify(entry) + '\n').join('');
    onPage?.(rows[rows.length - 1].seq);
  }
}

/**
 * The matching log as NDJSON or CSV, as of the head when the export began. A stream that
 * reads the next page from the database only when the consumer has taken the previous one, so
 * memory stays flat however long the log is.
 */
export function exportAudit(log: AuditLog, filter: AuditFilter, format: ExportFormat, onPage?: (lastSeq: number) => void): Readable {
  return Readable.from(formatted(log, filter, format, onPage), { objectMode: false });
}
