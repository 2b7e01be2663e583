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

export class ForbiddenError extends DomainError {
  constructor(message: string) {
    super(ErrorCode.Forbidden, message);
  }
}

/** Optimistic concurrency: the caller's expected version is not the stream's current one. */
export class VersionMismatchError extends DomainError {
  constructor(
    readonly stream: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(ErrorCode.VersionMismatch, `${stream} is at version ${actual}, not ${expected}`);
  }
}
