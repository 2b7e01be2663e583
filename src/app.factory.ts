import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import type { AppConfig } from './config/configuration';
import { PinoNestLogger, pinoOptions } from './logging/pino-nest-logger';
import { connectNatsTransport } from './nats/nats-link.transport';
import { setupOpenApi } from './openapi/openapi-document';

export const BODY_LIMIT_BYTES = 256 * 1024;

/**
 * Builds the application exactly as `serve` runs it; the e2e tests use this same function, so
 * what they test is what ships. Listening is left to the caller: `listen()`, then
 * `startAllMicroservices()` (NATS handlers only once HTTP and every module are up).
 */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  // Fastify over Express: lower per-request overhead, and body size limits built in.
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, logger: pinoOptions(config) });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, { bufferLogs: true });
  app.useLogger(new PinoNestLogger(adapter.getInstance().log));

  // Errors Fastify raises before a route runs (body too large, malformed JSON) reach the
  // global ProblemDetailsFilter too: Nest registers Fastify's error handler and maps them to
  // HttpExceptions carrying Fastify's own generic messages, which never quote the body.

  setupOpenApi(app);

  connectNatsTransport(app);
  app.enableShutdownHooks();
  return app;
}
