import { Inject, Injectable } from '@nestjs/common';
import type { HealthIndicatorService } from '@nestjs/terminus';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/configuration';
import { ReadinessCheck, ReadinessIndicator } from '../health/readiness';
import { warningHorizon } from '../secrets/domain/expiry';
import { SecretsReadModel } from '../secrets/secrets-read-model';
import { STORAGE, Storage } from '../storage/sql';

/** Readiness names this many of each list; the counts say how many there are. */
const LISTED = 100;

export interface ExpiryReport {
  expired: { key: string; expiresAt: string }[];
  expiredCount: number;
  expiring: { key: string; expiresAt: string }[];
  expiringCount: number;
}

/**
 * Secrets whose expiry has passed or falls within SECRETS_EXPIRY_WARNING_DAYS, for `/health/ready`
 * and the metrics. Expiry is a date someone must act on: it never deletes or changes anything,
 * and it never makes the service unready (every other secret still serves), so the check is
 * always up and says what it found.
 */
@Injectable()
@ReadinessCheck()
export class SecretExpiry implements ReadinessIndicator {
  constructor(
    @Inject(STORAGE) private readonly storage: Storage,
    private readonly readModel: SecretsReadModel,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'expiry'>,
  ) {}

  async report(now = new Date()): Promise<ExpiryReport> {
    // Expired: up to and including now. "Before the next millisecond" keeps both reads half-open.
    const justAfter = new Date(now.getTime() + 1).toISOString();
    const expired = await this.readModel.expiringBetween(this.storage.reader, '', justAfter, LISTED);
    const expiring = await this.readModel.expiringBetween(this.storage.reader, justAfter, warningHorizon(now, this.config.expiry.warningDays), LISTED);
    return { expired: expired.items, expiredCount: expired.count, expiring: expiring.items, expiringCount: expiring.count };
  }

  async check(indicators: HealthIndicatorService) {
    const { expired, expiredCount, expiring, expiringCount } = await this.report();
    return indicators.check('secretExpiry').up({ warningDays: this.config.expiry.warningDays, expiredCount, expired, expiringCount, expiring });
  }
}
