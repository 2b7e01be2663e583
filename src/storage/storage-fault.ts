import { DomainError, ErrorCode } from '../common/errors';

/** Seconds a client should wait before retrying a request refused because storage is unavailable. */
export const STORAGE_RETRY_AFTER_SECONDS = 5;

/**
 * SQLite's primary result codes that say "the storage cannot take this now", not "this request
 * is wrong": disk full, read-only file or filesystem, I/O errors, a file that cannot be opened,
 * a lock held too long, a damaged file. Extended codes (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED,
 * …) share their primary code's prefix.
 */
const FAULTS: Record<string, string> = {
  SQLITE_FULL: 'the disk is full',
  SQLITE_READONLY: 'the database is read-only',
  SQLITE_IOERR: 'an I/O error',
  SQLITE_CANTOPEN: 'the database cannot be opened',
  SQLITE_BUSY: 'the database is locked by another process',
  SQLITE_LOCKED: 'the database is locked',
  SQLITE_PROTOCOL: 'a locking protocol error',
  SQLITE_CORRUPT: 'the database file is damaged',
  SQLITE_NOTADB: 'the database file is damaged',
};

/** Storage cannot take writes (or reads) right now; nothing of the request was stored (SPEC §3). */
export class StorageUnavailableError extends DomainError {
  constructor(
    readonly reason: string,
    /** The engine's own code: SQLITE_FULL, PostgreSQL's SQLSTATE (53100), ECONNREFUSED. */
    readonly engineCode: string,
  ) {
    super(ErrorCode.StorageUnavailable, `Storage is unavailable (${reason}); nothing was stored. Retry later.`);
  }
}

/**
 * PostgreSQL's SQLSTATE classes (and the driver's socket errors) that say the same: the server
 * is out of resources, shutting down, unreachable or read-only (a standby). A constraint or a
 * syntax error is the request's or ours, and stays what it is.
 */
const POSTGRES_FAULT_CLASSES: Record<string, string> = {
  '08': 'the connection to PostgreSQL failed',
  '53': 'PostgreSQL is out of resources (disk, memory or connections)',
  '57': 'PostgreSQL is shutting down or cancelled the statement',
  '58': 'a PostgreSQL system or I/O error',
  '25006': 'PostgreSQL is read-only (a standby)',
};
const SOCKET_FAULTS: Record<string, string> = {
  ECONNREFUSED: 'PostgreSQL refuses connections',
  ECONNRESET: 'the connection to PostgreSQL was reset',
  ETIMEDOUT: 'the connection to PostgreSQL timed out',
  EPIPE: 'the connection to PostgreSQL was closed',
};

function faultReason(code: string): string | undefined {
  const primary = Object.keys(FAULTS).find((prefix) => code === prefix || code.startsWith(`${prefix}_`));
  if (primary) return FAULTS[primary];
  if (SOCKET_FAULTS[code]) return SOCKET_FAULTS[code];
  if (/^[0-9A-Z]{5}$/.test(code)) return POSTGRES_FAULT_CLASSES[code] ?? POSTGRES_FAULT_CLASSES[code.slice(0, 2)];
  return undefined;
}

/** The StorageUnavailableError an error stands for, or undefined when it is no storage fault. */
export function asStorageUnavailable(error: unknown): StorageUnavailableError | undefined {
  if (error instanceof StorageUnavailableError) return error;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code !== 'string') {
    // pg rejects a query on a connection that has ended with a plain Error.
    if (error instanceof Error && /Connection terminated|connection is closed|Client has encountered a connection error/i.test(error.message)) {
      return new StorageUnavailableError(SOCKET_FAULTS.EPIPE, 'EPIPE');
    }
    return undefined;
  }
  const reason = faultReason(code);
  return reason === undefined ? undefined : new StorageUnavailableError(reason, code);
}
