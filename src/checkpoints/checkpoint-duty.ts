import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { HealthIndicatorService } from '@nestjs/terminus';
import { CoalescedTask } from '../common/coalesced-task';
import { ReadinessCheck, ReadinessIndicator } from '../health/readiness';
import { Leadership, STORAGE, Storage } from '../storage/sql';
import { CheckpointShipper } from './checkpoint-shipper';
import { CheckpointWriter } from './checkpoint-writer';

/** How often the instance that writes checkpoints looks whether one is due, and the others whether it still lives. */
const TICK_MS = 1_000;

/**
 * The checkpoints' one instance: whoever holds the `auditCheckpoints` leadership (on SQLite the
 * one process) writes each checkpoint and ships it to the sink, so exactly one instance writes
 * each; when it dies another takes the role and carries on from the log and the stored position.
 *
 * A failing sink shows in readiness (`checkpointSink`) without making the service unready: the
 * service still does its job, and the checkpoints wait in the log until the sink takes them.
 */
@Injectable()
@ReadinessCheck()
export class CheckpointDuty implements OnApplicationBootstrap, BeforeApplicationShutdown, ReadinessIndicator {
  private readonly logger = new Logger('AuditCheckpoints');
  private readonly task = new CoalescedTask(() => this.turn());
  private timer: NodeJS.Timeout | undefined;
  private leadership!: Leadership;
  private stopped = false;
  private lastProblem: string | undefined;

  constructor(
    private readonly writer: CheckpointWriter,
    private readonly shipper: CheckpointShipper,
    @Inject(STORAGE) private readonly storage: Storage,
  ) {}

  onApplicationBootstrap(): void {
    this.leadership = this.storage.leadership('auditCheckpoints');
    this.timer = setInterval(() => void this.task.run(), TICK_MS);
    this.timer.unref();
    void this.task.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.task.idle();
  }

  async check(indicators: HealthIndicatorService) {
    return indicators.check('checkpointSink').up({ ...(await this.shipper.state()), writing: this.leadership?.held ?? false });
  }

  private async turn(): Promise<void> {
    if (this.stopped) return;
    try {
      if (!(await this.leadership.holds())) return;
      if (await this.writer.due(this.storage.reader)) await this.storage.transact((tx) => this.writer.writeIfDue(tx));
      await this.shipper.ship();
      this.report((await this.shipper.state()).error);
    } catch (error) {
      this.report(`checkpoints paused: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** A problem is logged when it starts and when it ends, not every second in between. */
  private report(problem: string | undefined): void {
    if (problem === this.lastProblem) return;
    if (problem) this.logger.warn(problem);
    else this.logger.log('checkpoints are written and shipped again');
    this.lastProblem = problem;
  }
}
