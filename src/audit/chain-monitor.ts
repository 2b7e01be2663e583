import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { HealthIndicatorService } from '@nestjs/terminus';
import { ReadinessCheck, ReadinessIndicator } from '../health/readiness';
import { AuditLog } from './audit-log';
import { ChainVerifier } from './chain-verifier';

/** How many rows a readiness probe verifies at most, so a probe never stalls the service. */
const ROWS_PER_PROBE = 50_000;
const ROWS_PER_SLICE = 5_000;

/**
 * Keeps the hash chain verified while the service runs: the whole log once at start (in slices,
 * between which requests are served), then only the rows appended since. A break is logged and
 * turns /health/ready down; it is never repaired, and the API keeps answering. A row edited
 * after it was verified shows at the next start or on GET /audit/verify, which re-reads all.
 */
@Injectable()
@ReadinessCheck()
export class ChainMonitor implements ReadinessIndicator, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AuditChain');
  private readonly verifier = new ChainVerifier();
  private stopped = false;
  private reported = false;

  constructor(private readonly log: AuditLog) {}

  onApplicationBootstrap(): void {
    const slice = async () => {
      if (this.stopped) return;
      const read = await this.advance(ROWS_PER_SLICE).catch((error: unknown) => {
        this.logger.warn(`audit chain not verified further now: ${error instanceof Error ? error.message : String(error)}`);
        return 0;
      });
      if (read > 0 && !this.verifier.broken) setImmediate(() => void slice());
    };
    setImmediate(() => void slice());
  }

  onApplicationShutdown(): void {
    this.stopped = true;
  }

  /** What the monitor knows now, without reading further (metrics). */
  state(): { ok: boolean; verifiedSeq: number } {
    return { ok: !this.verifier.broken, verifiedSeq: this.verifier.verifiedSeq };
  }

  async check(indicators: HealthIndicatorService) {
    await this.advance(ROWS_PER_PROBE);
    const indicator = indicators.check('auditChain');
    const broken = this.verifier.broken;
    if (broken) return indicator.down({ verifiedSeq: this.verifier.verifiedSeq, ...broken });
    return indicator.up({ verifiedSeq: this.verifier.verifiedSeq, head: (await this.log.head()).seq });
  }

  private async advance(maxRows: number): Promise<number> {
    const read = await this.verifier.advance(this.log, maxRows);
    const broken = this.verifier.broken;
    if (broken && !this.reported) {
      this.reported = true;
      this.logger.error(`audit chain broken at seq ${broken.brokenAt}: ${broken.reason}. Not repaired; investigate.`);
    }
    return read;
  }
}
