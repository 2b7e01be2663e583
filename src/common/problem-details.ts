import { HttpException, HttpStatus } from '@nestjs/common';
import { asStorageUnavailable } from '../storage/storage-fault';
import { DomainError, ErrorCode, FieldError } from './errors';

/** RFC 9457 problem details, as SPEC §3 shapes them. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  [ErrorCode.ValidationFailed]: HttpStatus.BAD_REQUEST,
  [ErrorCode.Unauthenticated]: HttpStatus.UNAUTHORIZED,
  [ErrorCode.Forbidden]: HttpStatus.FORBIDDEN,
  [ErrorCode.NotFound]: HttpStatus.NOT_FOUND,
  [ErrorCode.AlreadyExists]: HttpStatus.CONFLICT,
  [ErrorCode.Conflict]: HttpStatus.CONFLICT,
  [ErrorCode.VersionMismatch]: HttpStatus.PRECONDITION_FAILED,
  [ErrorCode.PayloadTooLarge]: HttpStatus.PAYLOAD_TOO_LARGE,
  [ErrorCode.TooManyRequests]: HttpStatus.TOO_MANY_REQUESTS,
  [ErrorCode.StorageUnavailable]: HttpStatus.SERVICE_UNAVAILABLE,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function problemType(status: number, code?: string): string {
  return code ? `urn:secrets-ledger:problem:${code}` : status >= 500 ? 'about:blank' : `urn:secrets-ledger:problem:http-${status}`;
}

export function problem(status: number, detail: string, code?: string, errors?: FieldError[]): ProblemDetails {
  return {
    type: problemType(status, code),
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

/**
 * Maps any thrown thing to a problem. Returns undefined for an unexpected error, which the
 * caller turns into a generic 500 with an error id: internals never reach a client.
 */
export function toProblem(error: unknown): ProblemDetails | undefined {
  // A read that hits a storage fault throws SQLite's own error; a write's arrives already coded.
  error = asStorageUnavailable(error) ?? error;
  if (error instanceof DomainError) {
    return problem(STATUS_BY_CODE[error.code], error.message, error.code, error.errors);
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const message = typeof response === 'object' && response !== null && 'message' in response ? (response as { message: unknown }).message : error.message;
    const code = status === HttpStatus.PAYLOAD_TOO_LARGE ? ErrorCode.PayloadTooLarge : undefined;
    return problem(status, Array.isArray(message) ? message.join('; ') : String(message), code);
  }
  return undefined;
}
