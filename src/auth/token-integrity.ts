import { Inject, Injectable, Logger } from '@nestjs/common';
import type { HealthIndicatorService } from '@nestjs/terminus';
import { ANY_VERSION, EventStore } from '../event-store/event-store';
import { INTEGRITY_STREAM, StoredEventType } from '../event-store/stored-event-types';
import { ReadinessCheck, ReadinessIndicator } from '../health/readiness';
import { STORAGE, Storage } from '../storage/sql';
import { SYSTEM_ACTOR } from './principal';
import type { TokenDisagreement } from './token-log-check';

interface Rejection {
  id: string;
  fields: string[];
  at: string;
}

/**
 * Tokens refused because their row disagrees with the log (edited behind the service's back).
 * Each is reported once per process and token: an error line, a `TokenRowRejected` event
 * {id, fields, reasons} in the audit trail, and `tokenIntegrity` down in /health/ready until a
 * restart, as a broken chain turns `auditChain` down: someone must look at the database. The
 * token stays refused on every request, reported or not; the row is never repaired.
 */
@Injectable()
@ReadinessCheck()
export class TokenIntegrity implements ReadinessIndicator {
  private readonly logger = new Logger('TokenIntegrity');
  private readonly rejected = new Map<string, Rejection>();

  constructor(
    @Inject(STORAGE) private readonly storage: Storage,
    private readonly store: EventStore,
  ) {}

  get count(): number {
    return this.rejected.size;
  }

  /** Reports a refused token the first time it is seen; a failure to record it is logged, never thrown (the refusal stands). */
  async rejectedRow(id: string, disagreements: readonly TokenDisagreement[]): Promise<void> {
    if (this.rejected.has(id)) return;
    const fields = disagreements.map((disagreement) => disagreement.field);
    // Marked first: concurrent requests with the same token report it once.
    this.rejected.set(id, { id, fields, at: new Date().toISOString() });
    this.logger.error(`the tokens row of ${id} disagrees with the log (${disagreements.map((d) => `${d.field}: ${d.reason}`).join('; ')}); the token is refused. Not repaired; investigate.`);
    try {
      await this.storage.transact((tx) =>
        this.store.appendToStream(
          tx,
          INTEGRITY_STREAM,
          ANY_VERSION,
          [{ type: StoredEventType.TokenRowRejected, data: { id, fields, reasons: disagreements.map((d) => d.reason) } }],
          SYSTEM_ACTOR,
        ),
      );
    } catch (error) {
      this.logger.warn(`could not record TokenRowRejected for ${id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  check(indicators: HealthIndicatorService) {
    const indicator = indicators.check('tokenIntegrity');
    if (this.rejected.size === 0) return indicator.up({ rejected: [] });
    return indicator.down({ count: this.rejected.size, rejected: [...this.rejected.values()].slice(0, 100) });
  }
}
