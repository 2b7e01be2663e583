import { DomainError, ErrorCode } from '../common/errors';

/** Seconds a client should wait before retrying a request refused because storage is unavailable. */
export const STORAGE_RETRY_AFTER_SECONDS = 5;

/**
 * The one mapping from an engine's error to "the storage cannot take this now" (retry later,
 * nothing was stored), as against "this request is wrong" (a constraint, a refused rewrite, a
 * bug). Every path asks it — authentication, reads, writes, readiness — whichever engine runs.
 *
 * SQLite, by primary result code (extended codes such as SQLITE_IOERR_WRITE share their primary
 * code's prefix): disk full, read-only file or filesystem, I/O errors, a file that cannot be
 * opened, a lock held too long, a damaged file.
 */
const SQLITE_CODES: Record<string, string> = {
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

/**
 * PostgreSQL, by SQLSTATE, then by class (its first two characters): 08 connection exception,
 * 53 insufficient resources, 57 operator intervention, 58 system error (I/O), XX internal error
 * (data corruption among them). The limits of SPEC §7 end a wait with 55P03 (lock_timeout),
 * 57014 (statement_timeout) and 25P03 (idle_in_transaction_session_timeout); each rolls its
 * transaction back on the server. 25006 is a server that became a standby, or a database set
 * read-only, which takes writes again once the primary is back.
 */
const POSTGRES_CODES: Record<string, string> = {
  '55P03': "a lock (the log's append lock) was held by another session past the lock-wait limit",
  '57014': 'a statement ran past the statement limit',
  '25P03': 'a transaction was idle past the idle-in-transaction limit',
  '25006': 'the database is read-only',
  '53100': "PostgreSQL's disk is full",
  '53300': 'PostgreSQL has no connection slot free',
  '57P01': 'PostgreSQL is shutting down',
  '57P02': 'PostgreSQL restarted after a crash',
  '57P03': 'PostgreSQL is starting up or shutting down',
};
const POSTGRES_CLASSES: Record<string, string> = {
  '08': 'the connection to PostgreSQL failed',
  '53': 'PostgreSQL is out of resources (disk, memory or connections)',
  '57': 'PostgreSQL is shutting down, restarting or cancelled the statement',
  '58': 'PostgreSQL reported a system or I/O error',
  XX: 'PostgreSQL reported an internal error',
};

/** The socket's errors on the way to PostgreSQL. */
const SOCKET_CODES: Record<string, string> = {
  ECONNREFUSED: 'PostgreSQL refused the connection',
  ECONNRESET: 'the connection to PostgreSQL was reset',
  EPIPE: 'the connection to PostgreSQL was reset',
  ETIMEDOUT: 'PostgreSQL did not answer in time',
  EHOSTUNREACH: "PostgreSQL's host is unreachable",
  ENOTFOUND: "PostgreSQL's host name does not resolve",
  EAI_AGAIN: "PostgreSQL's host name does not resolve",
};

/** The pg driver's code-less errors: a connection that went away, or a wait that reached its limit. */
const DRIVER_MESSAGES: Array<[RegExp, string]> = [
  [/^timeout exceeded when trying to connect$/, 'no PostgreSQL connection was free within the connection-acquire limit'],
  [/^Connection terminated due to connection timeout$/, 'PostgreSQL did not accept a connection within the connect limit'],
  [/^timeout expired$/, 'PostgreSQL did not accept a connection within the connect limit'],
  [/^Connection terminated/, 'the connection to PostgreSQL was lost'],
  [/^Client has encountered a connection error/, 'the connection to PostgreSQL was lost'],
];

/** Storage cannot take writes (or reads) right now; nothing of the request was stored (SPEC §3). */
export class StorageUnavailableError extends DomainError {
  constructor(
    readonly reason: string,
    /** The engine's own code: SQLITE_FULL, a PostgreSQL SQLSTATE (53100), ECONNREFUSED; "" for the driver's code-less errors. */
    readonly engineCode: string,
  ) {
    super(ErrorCode.StorageUnavailable, `Storage is unavailable (${reason}); nothing was stored. Retry later.`);
  }
}

/**
 * The connection went away while COMMIT was on its way, and the database could not be asked in
 * time whether the transaction committed: the write may be in the log or not. Never reported as
 * "nothing was stored" (SPEC §3).
 */
export class CommitOutcomeUnknownError extends DomainError {
  constructor(readonly reason: string) {
    super(
      ErrorCode.OutcomeUnknown,
      `Storage became unavailable while this write was being committed (${reason}), and whether it was applied is not known; read the current state before retrying.`,
    );
  }
}

function reasonFor(code: string): string | undefined {
  const sqlite = Object.keys(SQLITE_CODES).find((prefix) => code === prefix || code.startsWith(`${prefix}_`));
  if (sqlite) return SQLITE_CODES[sqlite];
  return POSTGRES_CODES[code] ?? SOCKET_CODES[code] ?? (/^[0-9A-Z]{5}$/.test(code) ? POSTGRES_CLASSES[code.slice(0, 2)] : undefined);
}

/** The StorageUnavailableError an error of either engine stands for, or undefined when it is no storage fault. */
export function asStorageUnavailable(error: unknown): StorageUnavailableError | undefined {
  if (error instanceof StorageUnavailableError) return error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    const reason = reasonFor(code);
    return reason === undefined ? undefined : new StorageUnavailableError(reason, code);
  }
  const match = typeof message === 'string' ? DRIVER_MESSAGES.find(([pattern]) => pattern.test(message)) : undefined;
  return match && new StorageUnavailableError(match[1], '');
}
