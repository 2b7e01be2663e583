import { Inject, Injectable } from '@nestjs/common';
import type { HealthIndicatorService } from '@nestjs/terminus';
import { statfsSync } from 'node:fs';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/configuration';
import { ReadinessCheck, ReadinessIndicator } from '../health/readiness';
import { STORAGE, Storage } from './sql';

/** At most one probe write per this many milliseconds while storage is faulted. */
const PROBE_INTERVAL_MS = 1_000;
/**
 * Below this much free space in the data dir the service is not ready: one batch of writes can
 * need more than a few largest values (64 KiB each), and a write that fails half-way is refused
 * anyway; better that a load balancer knows before it happens.
 */
export const MIN_FREE_BYTES = 1024 * 1024;

/**
 * `storage` in /health/ready: down from the moment a write meets a storage fault (disk full,
 * read-only, I/O error, PostgreSQL unreachable, a limit of SPEC §7 reached) until a write commits
 * again, while something outside the process holds every write up (a PostgreSQL session keeping
 * the log's append lock past the lock-wait limit), and while the data dir's filesystem has less
 * than MIN_FREE_BYTES free (SPEC §3). While a fault lasts, each probe
 * (at most one a second) tries one tiny write of its own, so the service turns ready again once
 * the fault is gone even if no client writes in the meantime; no restart is needed.
 */
@Injectable()
@ReadinessCheck()
export class StorageReadiness implements ReadinessIndicator {
  private lastProbe = 0;

  constructor(
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async check(indicators: HealthIndicatorService) {
    const freeBytes = this.freeBytes();
    const enoughSpace = freeBytes === undefined || freeBytes >= MIN_FREE_BYTES;
    if (this.storage.fault && enoughSpace && Date.now() - this.lastProbe >= PROBE_INTERVAL_MS) {
      this.lastProbe = Date.now();
      // A failure here is the fault itself, which the queue records; the indicator reports it.
      await this.storage
        .transact((tx) => tx.run('INSERT INTO storage_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at', [new Date().toISOString()]))
        .catch(() => undefined);
    }
    const indicator = indicators.check('storage');
    const fault = this.storage.fault;
    const details = { freeBytes, minFreeBytes: MIN_FREE_BYTES };
    if (fault) return indicator.down({ writable: false, ...fault, ...details });
    const blocker = await this.storage.blocker();
    if (blocker) return indicator.down({ writable: false, ...blocker, ...details });
    if (!enoughSpace) return indicator.down({ writable: true, reason: 'the data dir is almost full', ...details });
    return indicator.up({ writable: true, ...details });
  }

  private freeBytes(): number | undefined {
    if (this.storage.dialect.engine !== 'sqlite') return undefined;
    try {
      const stats = statfsSync(this.config.dataDir);
      return stats.bavail * stats.bsize;
    } catch {
      // The data dir itself gone is a fault the next write reports; free space is then unknown.
      return undefined;
    }
  }
}
