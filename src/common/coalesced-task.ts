/**
 * Runs an async task at most once at a time: a call while it runs schedules exactly one more run
 * after it, however many calls arrive meanwhile. For "something changed, go and look" work
 * (the relay draining the log, a client refreshing a context) where calls carry no data.
 * Plain TypeScript: the SDK uses it too.
 */
export class CoalescedTask {
  private running: Promise<void> | undefined;
  private rerun: Promise<void> | undefined;

  constructor(private readonly task: () => Promise<void>) {}

  /** Resolves when a run that started at or after this call has finished. */
  run(): Promise<void> {
    if (!this.running) {
      this.running = this.task().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    this.rerun ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.rerun = undefined;
        return this.run();
      });
    return this.rerun;
  }

  /** Settles when nothing is running or scheduled. */
  async idle(): Promise<void> {
    while (this.running || this.rerun) await (this.rerun ?? this.running)!.catch(() => undefined);
  }
}
