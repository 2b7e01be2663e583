import { Controller, Get, HttpStatus, Inject, OnModuleInit, Res, ServiceUnavailableException } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/roles.decorator';
import { STORAGE, Storage } from '../storage/sql';
import { STORAGE_RETRY_AFTER_SECONDS, asStorageUnavailable } from '../storage/storage-fault';
import { ReadinessCheck, ReadinessIndicator } from './readiness';

class LivenessDto {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
}

/** Terminus's result; each check reports its own details (database, auditChain, nats, notifications). */
class ReadinessDto {
  @ApiProperty({ enum: ['ok', 'error'] }) status!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The checks that are up, by name' }) info!: object;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The checks that are down, by name' }) error!: object;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Every check by name',
    example: { database: { status: 'up' }, auditChain: { status: 'up', verifiedSeq: 42, head: 42 }, nats: { status: 'up', connected: true }, notifications: { status: 'up', lag: 0 } },
  })
  details!: object;
}

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController implements OnModuleInit {
  private readiness: ReadinessIndicator[] = [];

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(STORAGE) private readonly storage: Storage,
    private readonly discovery: DiscoveryService,
  ) {}

  onModuleInit(): void {
    this.readiness = this.discovery
      .getProviders({ metadataKey: ReadinessCheck.KEY })
      .map((wrapper) => wrapper.instance as ReadinessIndicator);
  }

  /** Liveness: the process answers. */
  @Get()
  @ApiOperation({ summary: 'Liveness', description: 'The process answers. No token.' })
  @ApiOkResponse({ type: LivenessDto, description: 'Alive' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: the database answers, and whatever else has registered (NATS, relay lag, chain). */
  @Get('ready')
  // Our own documentation below: terminus's generic one has a redis example and no schema.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({
    summary: 'Readiness',
    description: 'The database, the audit chain, NATS and the notification lag. NATS down or lagging stays 200 (the service still serves); storage down or a broken chain is 503. No token.',
  })
  @ApiOkResponse({ type: ReadinessDto, description: 'Ready' })
  @ApiServiceUnavailableResponse({ type: ReadinessDto, description: 'Not ready: see `error`' })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.database(), ...this.readiness.map((r) => () => this.checkOrDatabaseDown(r))]);
    } catch (error) {
      // Terminus signals "not ready" with a 503 exception; keep its body (which part failed).
      if (error instanceof ServiceUnavailableException) {
        void reply.status(HttpStatus.SERVICE_UNAVAILABLE).header('Retry-After', String(STORAGE_RETRY_AFTER_SECONDS));
        return error.getResponse() as HealthCheckResult;
      }
      throw error;
    }
  }

  /** The database answers a query (through the same pool, and the same limits, as requests). */
  private async database() {
    const indicator = this.indicators.check('database');
    try {
      await this.storage.reader.get('SELECT 1 AS one');
      return indicator.up();
    } catch (error) {
      return indicator.down(this.unreachable(error));
    }
  }

  /**
   * A check that needs the database and cannot reach it says so under `database`, as the
   * database's own check does: readiness is a 503 naming why, never a 500.
   */
  private async checkOrDatabaseDown(readiness: ReadinessIndicator) {
    try {
      return await readiness.check(this.indicators);
    } catch (error) {
      // Anything else is a bug of the check, for the generic 500 and its log line.
      if (!asStorageUnavailable(error)) throw error;
      return this.indicators.check('database').down(this.unreachable(error));
    }
  }

  /** What readiness shows of a failed query: the one fault mapping's reason, never the driver's message. */
  private unreachable(error: unknown): { reason: string; code: string } {
    const fault = asStorageUnavailable(error);
    return fault ? { reason: fault.reason, code: fault.engineCode } : { reason: 'the database answered with an unexpected error', code: '' };
  }
}
