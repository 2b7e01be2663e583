/**
 * Coded domain errors. The HTTP layer maps each code to a status in one place
 * (ProblemDetailsFilter); domain code never mentions HTTP.
 *
 * Messages must never contain a secret value: they end up in response bodies and logs.
 */
export enum ErrorCode {
  ValidationFailed = 'validation-failed',
  NotFound = 'not-found',
  AlreadyExists = 'already-exists',
  Conflict = 'conflict',
  VersionMismatch = 'version-mismatch',
  Unauthenticated = 'unauthenticated',
  Forbidden = 'forbidden',
  PayloadTooLarge = 'payload-too-large',
  TooManyRequests = 'too-many-requests',
  StorageUnavailable = 'storage-unavailable',
  /** Storage went away during a commit: the write may or may not have been applied. */
  OutcomeUnknown = 'outcome-unknown',
  UnsupportedMediaType = 'unsupported-media-type',
  MasterKeyNotShared = 'master-key-not-shared',
}

/**
 * SPEC §3: a field name that came from the request (an unknown member, an unknown parameter)
 * is named back only if it is a plain identifier; anything else may be a value pasted in the
 * wrong place (a form-encoded body arrives as one long "field name").
 */
const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const UNKNOWN_FIELD = 'an unknown field';

export function fieldNameFromRequest(name: string): string {
  return PLAIN_IDENTIFIER.test(name) ? name : UNKNOWN_FIELD;
}

export interface FieldError {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  constructor(message: string, errors?: FieldError[]) {
    super(ErrorCode.ValidationFailed, message, errors);
  }
}

export class NotFoundError extends DomainError {
  constructor(message: string) {
    super(ErrorCode.NotFound, message);
  }
}

export class AlreadyExistsError extends DomainError {
  constructor(message: string) {
    super(ErrorCode.AlreadyExists, message);
  }
}

/** The request is valid but would leave the system in a state it must never be in. */
export class ConflictError extends DomainError {
  constructor(message: string) {
    super(ErrorCode.Conflict, message);
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(message: string) {
    super(ErrorCode.Unauthenticated, message);
  }
}

export class UnsupportedMediaTypeError extends DomainError {
  constructor(message: string) {
    super(ErrorCode.UnsupportedMediaType, message);
  }
}

export class TooManyRequestsError extends DomainError {
  constructor(
    message: string,
    /** Seconds until the caller may try again (the Retry-After header). */
    readonly retryAfterSeconds: number,
  ) {
    super(ErrorCode.TooManyRequests, message);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message: string) {
    super(ErrorCode.Forbidden, message);
  }
}

/**
 * Optimistic concurrency: the caller's expected version is not the stream's current one. The
 * message speaks of `subject` (e.g. "Secret API_TOKEN"), never of the internal stream name.
 */
export class VersionMismatchError extends DomainError {
  constructor(
    readonly stream: string,
    readonly expected: number,
    readonly actual: number,
    subject = 'The record',
  ) {
    super(ErrorCode.VersionMismatch, `${subject} is at version ${actual}, not version ${expected} as expected; read it again and retry.`);
  }
}
