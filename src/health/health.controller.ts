import { Controller, Get, HttpStatus, Inject, OnModuleInit, Res, ServiceUnavailableException } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { Database } from 'better-sqlite3';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/roles.decorator';
import { SQLITE } from '../storage/database.module';
import { ReadinessCheck, ReadinessIndicator } from './readiness';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController implements OnModuleInit {
  private readiness: ReadinessIndicator[] = [];

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(SQLITE) private readonly db: Database,
    private readonly discovery: DiscoveryService,
  ) {}

  onModuleInit(): void {
    this.readiness = this.discovery
      .getProviders({ metadataKey: ReadinessCheck.KEY })
      .map((wrapper) => wrapper.instance as ReadinessIndicator);
  }

  /** Liveness: the process answers. */
  @Get()
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: the database answers, and whatever else has registered (NATS, relay lag, chain). */
  @Get('ready')
  @HealthCheck()
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.database(), ...this.readiness.map((r) => () => r.check(this.indicators))]);
    } catch (error) {
      // Terminus signals "not ready" with a 503 exception; keep its body (which part failed).
      if (error instanceof ServiceUnavailableException) {
        void reply.status(HttpStatus.SERVICE_UNAVAILABLE);
        return error.getResponse() as HealthCheckResult;
      }
      throw error;
    }
  }

  private database() {
    const indicator = this.indicators.check('database');
    try {
      this.db.prepare('SELECT 1').get();
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }
}
