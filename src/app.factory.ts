import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import type { AppConfig } from './config/configuration';
import { readFileSync } from 'node:fs';
import { PinoNestLogger, pinoOptions } from './logging/pino-nest-logger';
import { setupOpenApi } from './openapi/openapi-document';

export const BODY_LIMIT_BYTES = 256 * 1024;

/**
 * Builds the application exactly as `serve` runs it; the e2e tests use this same function, so
 * what they test is what ships. Listening is left to the caller.
 */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  // Fastify over Express: lower per-request overhead, and body size limits built in.
  // With TLS_CERT_FILE/TLS_KEY_FILE the service speaks HTTPS itself (SPEC §7): tokens and values
  // then never cross a network in clear, with or without a proxy in front.
  const https = config.tls ? { https: { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) } } : {};
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, logger: pinoOptions(config), ...https });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, { bufferLogs: true });
  app.useLogger(new PinoNestLogger(adapter.getInstance().log));

  // Errors Fastify raises before a route runs (body too large, malformed JSON) reach the
  // global ProblemDetailsFilter too: Nest registers Fastify's error handler and maps them to
  // HttpExceptions carrying Fastify's own generic messages, which never quote the body.

  setupOpenApi(app);

  app.enableShutdownHooks();
  return app;
}
