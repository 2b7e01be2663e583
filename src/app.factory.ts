import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import type { AppConfig } from './config/configuration';
import { readFileSync } from 'node:fs';
import { edgeServerOptions, installHttpEdge } from './http/http-edge';
import { PinoNestLogger } from './logging/pino-nest-logger';
import { setupOpenApi } from './openapi/openapi-document';

/**
 * Builds the application exactly as `serve` runs it; the e2e tests use this same function, so
 * what they test is what ships. Listening is left to the caller.
 */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  // Fastify over Express: lower per-request overhead, and body size limits built in. Nest's own
  // body parsers are off: the HTTP edge (src/http) installs the only one. With TLS_CERT_FILE/
  // TLS_KEY_FILE the service speaks HTTPS itself (SPEC §7): tokens and values then never cross a
  // network in clear, with or without a proxy in front.
  const edge = edgeServerOptions(config);
  // Node's https server takes the same time limits as the http one, but Fastify passes its
  // `http` options to plain HTTP only: hand them over with the certificate.
  const https = config.tls ? { https: { ...(edge as { http?: object }).http, cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) } } : {};
  const adapter = new FastifyAdapter({ ...edge, ...https } as ConstructorParameters<typeof FastifyAdapter>[0]);
  // abortOnError off: a failed start (storage unreachable, say) reaches the CLI as an error it
  // prints in one line and exits 1 on, instead of Nest printing a stack and aborting.
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, { bufferLogs: true, bodyParser: false, abortOnError: false });
  app.useLogger(new PinoNestLogger(adapter.getInstance().log));
  await installHttpEdge(app, config);

  setupOpenApi(app);

  app.enableShutdownHooks();
  return app;
}
