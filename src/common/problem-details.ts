import { HttpException, HttpStatus } from '@nestjs/common';
import { asStorageUnavailable } from '../storage/storage-fault';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails } from '../contract/problem';
import { DomainError, ErrorCode, FieldError } from './errors';

export { PROBLEM_CONTENT_TYPE, type ProblemDetails };

/**
 * Headers every error carries, whoever raised it (our code, the router, Node) and whatever hooks
 * ran before it: an error is never content to sniff, and never worth caching.
 */
export const PROBLEM_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' } as const;

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
  [ErrorCode.OutcomeUnknown]: HttpStatus.SERVICE_UNAVAILABLE,
  [ErrorCode.UnsupportedMediaType]: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  [ErrorCode.MasterKeyNotShared]: HttpStatus.SERVICE_UNAVAILABLE,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  431: 'Request Header Fields Too Large',
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
 * What the service says of an error the HTTP framework or Node raised. Their own messages are
 * never passed on: some quote the request (Nest's 404 names the path, a JSON parser quotes the
 * text around a syntax error), and the request may hold a secret value.
 */
export const FRAMEWORK_DETAILS: Record<number, string> = {
  400: 'The request is malformed.',
  404: 'No route matches this method and path.',
  405: 'This method is not allowed here.',
  408: 'The request did not arrive in time.',
  413: 'The request body is too large (at most 256 KiB).',
  414: 'The URL is too long.',
  415: 'Request bodies must be application/json (UTF-8).',
  431: 'The request headers are too large.',
  503: 'The service is shutting down; try again.',
};

export function frameworkProblem(status: number): ProblemDetails {
  const known = status in FRAMEWORK_DETAILS ? status : status >= 500 ? 500 : 400;
  return problem(known, FRAMEWORK_DETAILS[known] ?? 'An unexpected error occurred.', known === 413 ? ErrorCode.PayloadTooLarge : undefined);
}

/**
 * Maps any thrown thing to a problem. Returns undefined for an unexpected error, which the
 * caller turns into a generic 500 with an error id: internals never reach a client.
 */
export function toProblem(error: unknown): ProblemDetails | undefined {
  // A read (authentication's among them) that hits a storage fault throws the engine's own
  // error; a write's arrives already coded. One mapping for both engines.
  error = asStorageUnavailable(error) ?? error;
  if (error instanceof DomainError) {
    return problem(STATUS_BY_CODE[error.code], error.message, error.code, error.errors);
  }
  // Our code throws DomainErrors; an HttpException comes from Nest or Fastify (404, 413, …).
  if (error instanceof HttpException) return frameworkProblem(error.getStatus());
  return undefined;
}
