/**
 * Re-resolves one hydrated context when asked, one resolve at a time, and bounds what
 * notifications can cost. Notifications are hints anyone with publish rights can forge
 * (SPEC §4), so each request may carry the revision a notification *claimed*:
 * - a request while a resolve is in flight is folded into one more resolve after it, because
 *   the change it announces may have committed after the in-flight resolve read the store;
 * - when a resolve answers with a revision below the highest claim it was asked for, that claim
 *   was false (the service publishes only after commit, so a true one is always reached), and
 *   the next resolve waits until `holdMs` after this one began. A flood of forged notifications
 *   then costs a context two resolves per burst and at most one per `holdMs` while it lasts;
 *   a real change is delayed by at most `holdMs`, never dropped: requests are kept, not skipped;
 * - a failed resolve (service away) holds the same way, so a flood does not hammer a service
 *   that is down; the keys it was for are asked again by the next resolve.
 * Requests for the client's own reasons (reconnect, periodic resync) claim nothing.
 *
 * A request names the keys it is for (a notification's key) or none, meaning every key. The
 * requests one resolve answers ask it for the union of their keys (a delta), or for every key
 * when any of them does: a change then costs the service the keys it touched, not the manifest.
 */
export class ContextRefresher {
  private running = false;
  private pending = false;
  private pendingClaim = -Infinity;
  /** The keys the pending resolve is for, unless `pendingAll`. */
  private pendingKeys = new Set<string>();
  private pendingAll = false;
  private holdUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  /**
   * `refresh` resolves `keys` (every key when undefined) and resolves with the revision the
   * service answered, or rejects when it failed.
   */
  constructor(
    private readonly refresh: (keys: string[] | undefined) => Promise<number>,
    private readonly holdMs: number,
  ) {}

  /**
   * Resolves once a resolve of `keys` (every key when undefined) that began after this call has
   * ended (or the refresher closed).
   */
  request(claimedRevision?: number, keys?: readonly string[]): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.pending = true;
    if (keys === undefined) this.pendingAll = true;
    else keys.forEach((key) => this.pendingKeys.add(key));
    if (claimedRevision !== undefined && claimedRevision > this.pendingClaim) this.pendingClaim = claimedRevision;
    const done = new Promise<void>((resolve) => this.waiters.push(resolve));
    this.schedule();
    return done;
  }

  /**
   * Whether keys of a failed resolve wait for the next one: they ride along with whatever asks
   * next, so a source that brings values without asking (a values-mode stream) must ask.
   */
  get owes(): boolean {
    return !this.pending && (this.pendingAll || this.pendingKeys.size > 0);
  }

  /** Settles when nothing runs and nothing waits to run. */
  idle(): Promise<void> {
    if (!this.running && !this.pending) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = false;
    this.pendingAll = false;
    this.pendingKeys.clear();
    this.waiters.splice(0).forEach((resolve) => resolve());
    if (!this.running) this.idleWaiters.splice(0).forEach((resolve) => resolve());
  }

  private schedule(): void {
    if (this.running || this.timer || !this.pending || this.closed) return;
    const wait = this.holdUntil - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, wait);
      this.timer.unref();
      return;
    }
    void this.runOnce();
  }

  private async runOnce(): Promise<void> {
    this.running = true;
    const claim = this.pendingClaim;
    const waiters = this.waiters;
    const keys = this.pendingAll ? undefined : [...this.pendingKeys];
    this.pending = false;
    this.pendingClaim = -Infinity;
    this.pendingAll = false;
    this.pendingKeys = new Set();
    this.waiters = [];
    const began = Date.now();
    try {
      const revision = await this.refresh(keys);
      if (claim > revision) this.holdUntil = began + this.holdMs;
    } catch {
      this.holdUntil = began + this.holdMs;
      // Its keys are still to be read: they ride along with the next resolve, whatever asks for it.
      if (keys === undefined) this.pendingAll = true;
      else keys.forEach((key) => this.pendingKeys.add(key));
    } finally {
      this.running = false;
      waiters.forEach((resolve) => resolve());
      this.schedule();
      if (!this.running && (!this.pending || this.closed)) this.idleWaiters.splice(0).forEach((resolve) => resolve());
    }
  }
}
