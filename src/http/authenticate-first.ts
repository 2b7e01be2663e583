import type { FastifyInstance, FastifyReply } from 'fastify';
import { AuthenticatedRequest, bearerToken } from '../auth/bearer';
import { AuthenticationFailure, AuthenticationFailures, RateLimitRefusals } from '../auth/refusals';
import { TokensService } from '../auth/tokens.service';
import { problem } from '../common/problem-details';
import { sendProblem } from '../common/problem-details.filter';
import type { HttpLimits } from '../config/configuration';
import { isApiRequest } from './api-scope';
import { lingerWhenClosed } from './lingering-close';

const MINUTE_MS = 60_000;

interface LimitResult {
  isExceeded?: boolean;
  ttlInSeconds?: number;
}
type Limiter = (request: AuthenticatedRequest) => Promise<LimitResult>;

export interface Refusals {
  tokens: TokensService;
  failures: AuthenticationFailures;
  limited: RateLimitRefusals;
}

function actionOf(request: AuthenticatedRequest): string {
  return `${request.method} ${request.routeOptions.url ?? '(no route)'}`;
}

/**
 * An answer given before the body is read: the connection is closed after it, so a client that
 * keeps dripping a body it was refused holds no socket and no buffer of ours.
 */
function refuseEarly(reply: FastifyReply, status: 401 | 429, detail: string, retryAfterSeconds?: number): FastifyReply {
  if (retryAfterSeconds !== undefined) void reply.header('Retry-After', String(Math.max(1, retryAfterSeconds)));
  void reply.header('Connection', 'close');
  lingerWhenClosed(reply.raw.socket);
  sendProblem(reply, problem(status, detail, status === 401 ? 'unauthenticated' : 'too-many-requests'));
  return reply;
}

/**
 * SPEC §2 and §3: the token is checked in `onRequest`, before Fastify reads a byte of the body,
 * and the rate limits apply there too — per token for authenticated requests, per client address
 * for failed authentications (@fastify/rate-limit's store: a bounded LRU of counters). Roles stay
 * with the AuthGuard, which finds the principal this hook put on the request.
 */
export function authenticateBeforeBody(fastify: FastifyInstance, limits: HttpLimits, refusals: Refusals): void {
  const createRateLimit = (fastify as unknown as { createRateLimit(options: object): Limiter }).createRateLimit;
  const perToken = createRateLimit({
    max: limits.rateLimitPerMinute,
    timeWindow: MINUTE_MS,
    keyGenerator: (request: AuthenticatedRequest) => `token:${request.principal!.id}`,
  });
  const failuresPerAddress = createRateLimit({
    max: limits.authFailuresPerMinute,
    timeWindow: MINUTE_MS,
    keyGenerator: (request: AuthenticatedRequest) => `address:${request.ip}`,
  });

  fastify.addHook('onRequest', async (request: AuthenticatedRequest, reply) => {
    if (!isApiRequest(request)) return;
    const token = bearerToken(request.headers.authorization);
    const principal = token === undefined ? undefined : await refusals.tokens.authenticate(token);

    if (principal) {
      request.principal = principal;
      const limit = await perToken(request);
      if (!limit.isExceeded) return;
      await refusals.limited.record(principal, actionOf(request));
      void reply.header('Retry-After', String(Math.max(1, limit.ttlInSeconds ?? 60)));
      sendProblem(reply, problem(429, `This token has made more than ${limits.rateLimitPerMinute} requests in a minute; try again later.`, 'too-many-requests'));
      return reply;
    }

    const reason: AuthenticationFailure = request.headers.authorization === undefined ? 'no-token' : token === undefined ? 'malformed-token' : 'unknown-token';
    await refusals.failures.record(request.ip, reason, actionOf(request));
    const limit = await failuresPerAddress(request);
    if (limit.isExceeded) {
      return refuseEarly(reply, 429, 'Too many failed authentications from this address; try again later.', limit.ttlInSeconds);
    }
    return refuseEarly(
      reply,
      401,
      token === undefined ? 'A bearer token is required (Authorization: Bearer <token>).' : 'The token is unknown or revoked.',
    );
  });
}


