import type { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';

/** A part of the service that can make it not ready (NATS, the notification relay, the chain). */
export interface ReadinessIndicator {
  check(indicators: HealthIndicatorService): Promise<HealthIndicatorResult> | HealthIndicatorResult;
}

export const READINESS_INDICATORS = Symbol('READINESS_INDICATORS');
