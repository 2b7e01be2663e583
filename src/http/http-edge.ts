import fastifyRateLimit from '@fastify/rate-limit';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyInstance, FastifyServerOptions, LogController } from 'fastify';
import helmet from 'helmet';
import type { Server } from 'node:http';
import { AuthenticationFailures, RateLimitRefusals } from '../auth/refusals';
import { TokensService } from '../auth/tokens.service';
import { UnsupportedMediaTypeError } from '../common/errors';
import { PROBLEM_HEADERS, problem } from '../common/problem-details';
import { sendProblem } from '../common/problem-details.filter';
import type { AppConfig } from '../config/configuration';
import { pinoOptions } from '../logging/pino-nest-logger';
import { isApiRequest } from './api-scope';
import { authenticateBeforeBody } from './authenticate-first';
import { answerClientError, answerFrameworkError } from './client-errors';
import { limitConnections } from './connection-limits';
import { JSON_CONTENT_TYPE, parseJsonBody } from './json-body';
import { lingerWhenClosed } from './lingering-close';
import { refuseUnstorableText } from './storable-text';

export const BODY_LIMIT_BYTES = 256 * 1024;
/** Longer URLs are 414: no route of ours needs more, and Node would only stop them at 16 KiB of headers (431). */
export const MAX_URL_LENGTH = 4096;
/** A secret key may be 128 characters; Fastify's default (100) would answer a long valid key 404. */
const MAX_PARAM_LENGTH = 256;
/** Counters @fastify/rate-limit keeps at most (tokens, addresses): an LRU, so a flood cannot grow it. */
const RATE_LIMIT_TRACKED = 10_000;

/**
 * The HTTP edge, part one: what Fastify and Node's http server enforce before any of our code
 * runs (SPEC §3). Time limits: the headers within `headersTimeout`, the whole request within
 * `requestTimeout` (408), checked every second instead of Node's default 30 s; an idle socket is
 * closed after twice that. Request logs name the route pattern, never the URL (a query string or
 * path may hold anything a client typed).
 */
export function edgeServerOptions(config: AppConfig): FastifyServerOptions {
  const { requestTimeoutMs, headersTimeoutMs } = config.http;
  return {
    logger: pinoOptions(config),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    requestTimeout: requestTimeoutMs,
    connectionTimeout: 2 * requestTimeoutMs,
    // requireHostHeader off: Node's own refusal of a request without Host is a bare 400; the
    // edge answers it instead (refuseWithoutHost), as problem+json.
    http: { headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs, connectionsCheckingInterval: 1000, requireHostHeader: false },
    clientErrorHandler: answerClientError,
    frameworkErrors: answerFrameworkError,
  } as FastifyServerOptions;
}

/** Only JSON bodies are read, through one parser that checks depth, UTF-8 and Unicode first. */
function acceptOnlyJson(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  const frameworkParse = fastify.getDefaultJsonParser('error', 'error');
  const parse = (text: string): unknown => {
    let parsed: unknown;
    frameworkParse(undefined as never, text, (error, value) => {
      if (error) throw error;
      parsed = value;
    });
    return parsed;
  };
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (request, body, done) => {
    try {
      if (!JSON_CONTENT_TYPE.test(request.headers['content-type'] ?? '')) {
        throw new UnsupportedMediaTypeError('Request bodies must be application/json (UTF-8).');
      }
      done(null, parseJsonBody(body as Buffer, parse));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  // Every other content type, and a body without one: Fastify answers 415 when no parser matches.
}

/**
 * SPEC §3 headers. Helmet's set on every response (the admin page and Swagger UI set their own
 * CSP where they need one: a route's header wins over the hook's); `no-store` on every API
 * answer, since some carry a value or a token and a cache has no business keeping any of them.
 */
function secureHeaders(fastify: FastifyInstance): void {
  // Built once: a middleware per request (what the Fastify plugin does) parsed the policy again
  // for every response, a twentieth of a resolve's CPU (docs/BENCHMARKS.md, profile).
  const setSecureHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
    // Swagger UI and the console load only their own origin; nothing cross-origin is embedded.
    crossOriginEmbedderPolicy: false,
  });
  fastify.addHook('onRequest', (request, reply, done) => setSecureHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined)));
  fastify.addHook('onRequest', async (request, reply) => {
    if (isApiRequest(request)) void reply.header('Cache-Control', PROBLEM_HEADERS['Cache-Control']);
  });
}

function refuseLongUrls(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.url.length <= MAX_URL_LENGTH) return;
    void reply.header('Connection', 'close');
    lingerWhenClosed(reply.raw.socket);
    sendProblem(reply, problem(414, `The URL is longer than ${MAX_URL_LENGTH} characters.`));
    return reply;
  });
}

/** What Node's `requireHostHeader` would refuse (RFC 9112 §3.2: an HTTP/1.1 request without Host), answered as problem+json. */
function refuseWithoutHost(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.raw.httpVersion !== '1.1' || request.headers.host !== undefined) return;
    void reply.header('Connection', 'close');
    sendProblem(reply, problem(400, 'An HTTP/1.1 request must carry a Host header.'));
    return reply;
  });
}

/** One line per request: method, route pattern, status, time. */
function logRequests(fastify: FastifyInstance): void {
  fastify.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { method: request.method, route: request.routeOptions.url ?? '(no route)', statusCode: reply.statusCode, responseTime: Math.round(reply.elapsedTime) },
      'request completed',
    );
  });
}

/**
 * The HTTP edge, part two, installed on the app before its routes: headers, the URL limit,
 * authentication and rate limits before the body, the one JSON parser, the connection limits.
 * Errors the framework raises later (404, 413, 415, malformed JSON) reach Nest's error handler
 * and so the ProblemDetailsFilter, which never passes their messages on.
 */
export async function installHttpEdge(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  limitConnections(app.getHttpServer() as Server, fastify, config.http);
  secureHeaders(fastify);
  refuseWithoutHost(fastify);
  refuseLongUrls(fastify);
  await app.register(fastifyRateLimit as never, { global: false, cache: RATE_LIMIT_TRACKED });
  authenticateBeforeBody(fastify, config.http, {
    tokens: app.get(TokensService),
    failures: app.get(AuthenticationFailures),
    limited: app.get(RateLimitRefusals),
  });
  acceptOnlyJson(fastify);
  refuseUnstorableText(fastify);
  logRequests(fastify);
}
