import { Global, Inject, Injectable, Logger, Module, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { Server, createServer } from 'node:http';
import { ChainMonitor } from '../audit/chain-monitor';
import { TokenIntegrity } from '../auth/token-integrity';
import { CheckpointShipper } from '../checkpoints/checkpoint-shipper';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/configuration';
import { ListenError } from '../config/listen-address';
import { NotificationRelay } from '../nats/notification-relay';
import { ConsumersService } from '../consumers/consumers.service';
import { OpenStreams } from '../changes/open-streams';
import { SecretExpiry } from '../expiry/secret-expiry';
import { UnreadableValues } from '../resolve/unreadable-values';
import { STORAGE, Storage } from '../storage/sql';
import { Metrics } from './metrics';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Feeds the metrics: a Fastify onResponse hook for every answered request (401s and 404s from
 * before any controller included), and observers on the writer and the relay. Each source is
 * looked up without a module import, so metrics never shape the dependency graph.
 */
@Injectable()
export class MetricsFeed implements OnModuleInit {
  constructor(
    private readonly metrics: Metrics,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(STORAGE) private readonly storage: Storage,
    private readonly modules: ModuleRef,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onResponse', (request, reply, done) => {
      // The route pattern (`/api/v1/secrets/:key`), never the URL: a URL names a secret.
      const route = request.routeOptions.url ?? 'unmatched';
      const method = METHODS.has(request.method) ? request.method : 'OTHER';
      this.metrics.requestAnswered(method, route, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
    this.storage.observe({
      batchCommitted: (jobs, seconds) => {
        this.metrics.writerBatchJobs.observe(jobs);
        this.metrics.writerBatchSeconds.observe(seconds);
      },
      batchFailed: () => this.metrics.writerFailedBatches.inc(),
    });
    this.modules.get(NotificationRelay, { strict: false }).observe({
      published: (events) => {
        const now = Date.now();
        this.metrics.notificationsPublished.inc(events.length);
        events.forEach((event) => this.metrics.notificationDelay.observe(Math.max(0, now - Date.parse(event.at)) / 1000));
      },
    });
    this.modules.get(CheckpointShipper, { strict: false }).observe(() => this.metrics.checkpointSinkFailures.inc());
  }
}

/** `/metrics` on its own listener (METRICS_HOST:METRICS_PORT), so it is never exposed with the API. */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private server: Server | undefined;

  constructor(
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.metricsPort === 0) return;
    const server = createServer((request, response) => {
      if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
        return;
      }
      this.metrics.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
        () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
      );
    });
    await new Promise<void>((resolve, reject) => {
      const address = { portVariable: 'METRICS_PORT', hostVariable: 'METRICS_HOST', host: this.config.metricsHost, port: this.config.metricsPort } as const;
      server.once('error', (error) => reject(new ListenError(address, error)));
      server.listen(this.config.metricsPort, this.config.metricsHost, () => resolve());
    });
    this.server = server;
    this.logger.log(`metrics on http://${this.config.metricsHost}:${this.config.metricsPort}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Prometheus metrics (docs/OPERATING.md, "Health, readiness and metrics"): fed by hooks and observers, served on their own port. */
@Global()
@Module({
  providers: [
    {
      provide: Metrics,
      inject: [ModuleRef],
      useFactory: (modules: ModuleRef) => {
        const relay = () => modules.get(NotificationRelay, { strict: false });
        const chain = () => modules.get(ChainMonitor, { strict: false });
        return new Metrics({
          notificationLag: () => relay().lag(),
          relayPosition: () => relay().publishedSeq(),
          chain: () => chain().state(),
          integrity: () => ({
            unreadableValues: modules.get(UnreadableValues, { strict: false }).count,
            rejectedTokens: modules.get(TokenIntegrity, { strict: false }).count,
          }),
          checkpointsPending: async () => (await modules.get(CheckpointShipper, { strict: false }).state()).pending,
          expiry: async () => {
            const { expiredCount, expiringCount } = await modules.get(SecretExpiry, { strict: false }).report();
            return { expired: expiredCount, expiring: expiringCount };
          },
          staleConsumers: () => modules.get(ConsumersService, { strict: false }).countStale(),
          changeStreams: () => modules.get(OpenStreams, { strict: false }).byMode,
        });
      },
    },
    MetricsFeed,
    MetricsServer,
  ],
  exports: [Metrics],
})
export class MetricsModule {}
