import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import type { AppConfig } from './config/configuration';
import { edgeServerOptions, installHttpEdge } from './http/http-edge';
import { PinoNestLogger } from './logging/pino-nest-logger';
import { connectNatsTransport } from './nats/nats-link.transport';

/**
 * Builds the application exactly as `serve` runs it; the e2e tests use this same function, so
 * what they test is what ships. Listening is left to the caller: `listen()`, then
 * `startAllMicroservices()` (NATS handlers only once HTTP and every module are up).
 */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  // Fastify over Express: lower per-request overhead, and body size limits built in. Nest's own
  // body parsers are off: the HTTP edge (src/http) installs the only one.
  const adapter = new FastifyAdapter(edgeServerOptions(config) as ConstructorParameters<typeof FastifyAdapter>[0]);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, { bufferLogs: true, bodyParser: false });
  app.useLogger(new PinoNestLogger(adapter.getInstance().log));
  await installHttpEdge(app, config);

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Secrets Ledger')
      .setDescription('Event-sourced secrets service: admin API, executor resolve, audit trail.')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document);

  connectNatsTransport(app);
  app.enableShutdownHooks();
  return app;
}
