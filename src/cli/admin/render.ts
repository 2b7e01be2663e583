/** Output of the admin commands: a plain table for people, or JSON (`--json`) for scripts. */
export interface OutputOptions {
  json?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Columns padded to their widest cell; an empty list says so instead of printing a bare header. */
export function printTable(headers: string[], rows: Array<Array<string | number | null | undefined>>, empty = '(none)'): void {
  if (rows.length === 0) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '' : String(cell))))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => row[column].length)));
  const lines = cells.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  '));
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** One record as aligned `field  value` lines. */
export function printRecord(record: Record<string, unknown>): void {
  const width = Math.max(...Object.keys(record).map((field) => field.length));
  const lines = Object.entries(record).map(([field, value]) => `${field.padEnd(width)}  ${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value ?? '')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
