import { Injectable } from '@nestjs/common';
import type { HealthIndicatorService } from '@nestjs/terminus';
import { ReadinessCheck, ReadinessIndicator } from '../health/readiness';
import { NatsLink } from './nats-link';
import { NotificationRelay } from './notification-relay';

/*
 * NATS down is reported (`connected: false`, a growing `lag`) but does not make the service
 * 503. SPEC §7: the service keeps serving writes while NATS is away and notifications catch up
 * afterwards; a 503 would take it out of a load balancer exactly when it still does its job.
 * Alert on `lag` and `nats.error` (why NATS refuses or cannot be reached) instead.
 */

@Injectable()
@ReadinessCheck()
export class NatsReadiness implements ReadinessIndicator {
  constructor(private readonly link: NatsLink) {}

  check(indicators: HealthIndicatorService) {
    const error = this.link.lastError;
    return indicators.check('nats').up({ connected: this.link.connected, state: this.link.state, ...(error ? { error } : {}) });
  }
}

@Injectable()
@ReadinessCheck()
export class NotificationsReadiness implements ReadinessIndicator {
  constructor(private readonly relay: NotificationRelay) {}

  async check(indicators: HealthIndicatorService) {
    return indicators.check('notifications').up({ lag: await this.relay.lag(), publishedSeq: this.relay.publishedSeq(), publishing: this.relay.isPublishing() });
  }
}
