/**
 * PostgreSQL's counterpart of the SQLite fault codes in `../storage-fault.ts`: errors that say
 * "the storage cannot take this now" (retry later, nothing was stored), as against "this request
 * is wrong" (a constraint, a refused rewrite, a bug). Returns the reason to report, or undefined.
 *
 * - SQLSTATE classes, by their first two characters: 08 connection exception, 53 insufficient
 *   resources (disk full, out of memory, too many connections), 57 operator intervention (the
 *   server shutting down, restarted, not yet accepting connections, a statement timeout),
 *   58 system error (I/O), XX internal error (data corruption among them).
 * - 25006, a read-only transaction: a server that became a standby in a failover, or a database
 *   set read-only, which takes writes again once the primary is back.
 * - The socket errors, and the pg driver's code-less errors for a connection that went away.
 */
const CLASSES: Record<string, string> = {
  '08': 'the connection to PostgreSQL failed',
  '53': 'PostgreSQL is out of resources (disk, memory or connections)',
  '57': 'PostgreSQL is shutting down, restarting or cancelled the statement',
  '58': 'PostgreSQL reported a system or I/O error',
  XX: 'PostgreSQL reported an internal error',
};
const CODES: Record<string, string> = {
  '25006': 'the database is read-only',
  ECONNREFUSED: 'PostgreSQL refused the connection',
  ECONNRESET: 'the connection to PostgreSQL was reset',
  EPIPE: 'the connection to PostgreSQL was reset',
  ETIMEDOUT: 'PostgreSQL did not answer in time',
  ENOTFOUND: "PostgreSQL's host name does not resolve",
  EAI_AGAIN: "PostgreSQL's host name does not resolve",
};
const MESSAGES: Array<[RegExp, string]> = [
  [/^Connection terminated/, 'the connection to PostgreSQL was lost'],
  [/^Client has encountered a connection error/, 'the connection to PostgreSQL was lost'],
  [/^timeout exceeded when trying to connect$/, 'PostgreSQL did not answer in time'],
];

export interface PostgresFault {
  reason: string;
  /** The SQLSTATE or socket error code, for the log and readiness; "" for the driver's code-less errors. */
  code: string;
}

export function postgresFault(error: unknown): PostgresFault | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    const reason = CODES[code] ?? (/^[0-9A-Z]{5}$/.test(code) ? CLASSES[code.slice(0, 2)] : undefined);
    return reason === undefined ? undefined : { reason, code };
  }
  const match = typeof message === 'string' ? MESSAGES.find(([pattern]) => pattern.test(message)) : undefined;
  return match && { reason: match[1], code: '' };
}
