import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { STORAGE_RETRY_AFTER_SECONDS } from '../storage/storage-fault';
import { TooManyRequestsError } from './errors';
import { PROBLEM_CONTENT_TYPE, PROBLEM_HEADERS, ProblemDetails, frameworkProblem, problem, toProblem } from './problem-details';

/**
 * Node's codes for a request stream the client cut off. ECONNRESET and EPIPE are not among them:
 * a connection to PostgreSQL fails with those too, and that is a storage fault (503), not a client
 * gone away. Node's own abort of a request body is `Error('aborted')` with code ECONNRESET, so it
 * is recognised by its message.
 */
const CLIENT_ABORT_CODES = new Set(['ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/** A request body cut off by the client; checked by shape, as it may come from another realm. */
export function isClientAbort(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (typeof code === 'string' && CLIENT_ABORT_CODES.has(code)) || message === 'aborted';
}

/**
 * Turns an error into a problem+json response, or, for an error nobody anticipated, a generic
 * 500 whose id appears in the log beside the stack trace. Used as Nest's global filter and as
 * Fastify's error handler (body parsing fails before Nest runs).
 */
export function problemFor(error: unknown, logger: Logger): ProblemDetails {
  if (isClientAbort(error)) {
    // Nobody is left to read the answer, and nothing of ours broke: not an operator's concern.
    logger.debug('the client closed the connection before its request was read');
    return frameworkProblem(400);
  }
  const known = toProblem(error);
  if (known) return known;
  const errorId = randomUUID();
  // Stack and message of our own code only: values are never carried in error messages.
  logger.error({ errorId, err: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error) }, 'unexpected error');
  return problem(500, `An unexpected error occurred (error id ${errorId}).`);
}

export function sendProblem(reply: FastifyReply, body: ProblemDetails): void {
  if (body.status === 401) reply.header('WWW-Authenticate', 'Bearer realm="secrets-ledger"');
  if (body.status === 503) reply.header('Retry-After', String(STORAGE_RETRY_AFTER_SECONDS));
  void reply.status(body.status).headers(PROBLEM_HEADERS).header('Content-Type', PROBLEM_CONTENT_TYPE).send(body);
}

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (exception instanceof TooManyRequestsError) void reply.header('Retry-After', String(exception.retryAfterSeconds));
    sendProblem(reply, problemFor(exception, this.logger));
  }
}
