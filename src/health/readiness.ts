import { DiscoveryService } from '@nestjs/core';
import type { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';

/** A part of the service that can make it not ready (NATS, the notification relay, the chain). */
export interface ReadinessIndicator {
  check(indicators: HealthIndicatorService): Promise<HealthIndicatorResult> | HealthIndicatorResult;
}

/**
 * Marks a provider implementing ReadinessIndicator; /health/ready discovers every marked
 * provider, so a feature module adds its check without the health module knowing about it.
 */
export const ReadinessCheck = DiscoveryService.createDecorator<void>();
