import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, PROBLEM_HEADERS, ProblemDetails, frameworkProblem, problem } from '../common/problem-details';
import { sendProblem } from '../common/problem-details.filter';
import { closeAfterLinger } from './lingering-close';

/** Node's codes for what it refuses before a request reaches Fastify, and what we answer. */
function statusOfClientError(code: string | undefined): number {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  return 400;
}

/** A complete HTTP/1.1 response with a problem body, for a socket no request object owns yet. */
export function rawProblemResponse(body: ProblemDetails): string {
  const json = JSON.stringify(body);
  const headers = {
    'Content-Type': PROBLEM_CONTENT_TYPE,
    'Content-Length': String(Buffer.byteLength(json)),
    Connection: 'close',
    ...PROBLEM_HEADERS,
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return [`HTTP/1.1 ${body.status} ${body.title}`, ...lines, '', json].join('\r\n');
}

/**
 * Fastify's `clientErrorHandler`: Node's http server raises these itself (malformed request
 * line, headers too large, the request not complete within `requestTimeout`) before any route
 * runs. Fastify's default answers plain JSON; SPEC §3 wants problem+json, naming nothing of the
 * request.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (!socket.writable) return void socket.destroy();
  // Not destroyed right after the write: that drops whatever the kernel has not taken yet, and a
  // reset in answer to the client's next bytes can cost it the answer it has not read.
  socket.write(rawProblemResponse(frameworkProblem(statusOfClientError(error.code))));
  closeAfterLinger(socket);
}

/**
 * Fastify's `frameworkErrors`: the router refuses a URL it cannot decode (bad percent-encoding)
 * before Nest is involved; its default answer quotes the URL.
 */
export function answerFrameworkError(error: Error & { code?: string }, _request: FastifyRequest, reply: FastifyReply): void {
  const body =
    error.code === 'FST_ERR_BAD_URL'
      ? problem(400, 'The URL is not valid (a percent-encoding that does not decode, or a character that is not allowed).')
      : frameworkProblem(400);
  sendProblem(reply, body);
}
