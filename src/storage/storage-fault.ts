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
    /** The engine's own code: SQLITE_FULL, a PostgreSQL SQLSTATE (53100), ECONNREFUSED. */
    readonly engineCode: string,
  ) {
    super(ErrorCode.StorageUnavailable, `Storage is unavailable (${reason}); nothing was stored. Retry later.`);
  }
}

function faultReason(code: string): string | undefined {
  const primary = Object.keys(FAULTS).find((prefix) => code === prefix || code.startsWith(`${prefix}_`));
  return primary && FAULTS[primary];
}

/** The StorageUnavailableError an error stands for, or undefined when it is no storage fault. */
export function asStorageUnavailable(error: unknown): StorageUnavailableError | undefined {
  if (error instanceof StorageUnavailableError) return error;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code !== 'string') return undefined;
  const reason = faultReason(code);
  return reason === undefined ? undefined : new StorageUnavailableError(reason, code);
}
