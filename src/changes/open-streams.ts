import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { Principal } from '../auth/principal';
import { RateLimitRefusals } from '../auth/refusals';
import { TokensService } from '../auth/tokens.service';
import { CoalescedTask } from '../common/coalesced-task';
import type { ChangeNotification } from '../contract/change-notification';
import { TooManyRequestsError } from '../common/errors';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig, StreamLimits } from '../config/configuration';
import { STORAGE, Storage } from '../storage/sql';
import { ChangeFeed } from './change-feed';
import { ChangeLog, ChangePosition } from './change-log';
import { ChangeStream } from './change-stream';
import { ValuePushes } from './value-pushes';

/** What a refused reader is told to wait: streams end when their readers go, so soon. */
const RETRY_AFTER_SECONDS = 5;
/** The backstop for a revocation whose announcement was lost (its listener reconnects and wakes us too). */
const REVOCATION_CHECK_MS = 5_000;

export interface StreamRequest {
  principal: Principal;
  response: ServerResponse;
  /** The revision to start after; undefined: the head (live changes only). */
  after: number | undefined;
  keys: ReadonlySet<string> | undefined;
  /** Values mode: the plugin whose values the stream carries, already authorized (ResolveService.authorize). */
  valuesFor?: string;
  /** What the refusal record names, as the edge names every action. */
  action: string;
}

/**
 * The change streams this instance holds open: their limits (per token, in all), and their end
 * when their token is revoked — on any instance: a revocation is announced to every instance on
 * the database, and each looks up the tokens of its own open streams.
 */
@Injectable()
export class OpenStreams implements OnModuleInit, OnModuleDestroy {
  private readonly byToken = new Map<string, Set<ChangeStream>>();
  private count = 0;
  private readonly valueStreams = new Set<ChangeStream>();
  private readonly limits: StreamLimits;
  private readonly revocationCheck = new CoalescedTask(() => this.endRevoked());
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly feed: ChangeFeed,
    private readonly log: ChangeLog,
    private readonly tokens: TokensService,
    private readonly limited: RateLimitRefusals,
    private readonly pushes: ValuePushes,
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.limits = config.streams;
  }

  onModuleInit(): void {
    this.storage.onAnnounced('token_revocations', () => void this.revocationCheck.run());
    this.timer = setInterval(() => this.count > 0 && void this.revocationCheck.run(), REVOCATION_CHECK_MS);
    this.timer.unref();
  }

  /** How many streams are open. */
  get size(): number {
    return this.count;
  }

  /** The open streams by kind: value-free notifications, and executors' values mode. */
  get byMode(): { notifications: number; values: number } {
    return { notifications: this.count - this.valueStreams.size, values: this.valueStreams.size };
  }

  /** Every stream ends before the server closes: an answer in progress would hold the close up. */
  onModuleDestroy(): void {
    clearInterval(this.timer);
    [...this.byToken.values()].forEach((streams) => [...streams].forEach((stream) => stream.end()));
  }

  /**
   * A stream for this reader and the position it starts after, read before anything is answered
   * (a storage fault is still an error answer); over a limit, 429.
   */
  async open(request: StreamRequest): Promise<{ stream: ChangeStream; after: ChangePosition }> {
    const { principal } = request;
    const held = this.byToken.get(principal.id)?.size ?? 0;
    const refusal =
      held >= this.limits.perToken
        ? `This token holds ${held} change streams open, its limit; close one or try again later.`
        : this.count >= this.limits.total
          ? 'The service holds as many change streams open as it allows; try again later.'
          : undefined;
    if (refusal) {
      await this.limited.record(principal, request.action);
      throw new TooManyRequestsError(refusal, RETRY_AFTER_SECONDS);
    }
    // Counted before the first await: streams opened together cannot all pass the check.
    let streams = this.byToken.get(principal.id);
    if (!streams) this.byToken.set(principal.id, (streams = new Set()));
    const plugin = request.valuesFor;
    const pusher = plugin === undefined ? undefined : (change: ChangeNotification) => this.pushes.prepare(change, { principal, plugin });
    const stream = new ChangeStream(this.feed, this.log, request.response, request.keys, this.limits, () => this.forget(principal.id, stream), pusher);
    streams.add(stream);
    this.count += 1;
    if (pusher) this.valueStreams.add(stream);
    try {
      await this.feed.ready();
      const after = request.after === undefined ? await this.log.head() : await this.log.after(request.after);
      return { stream, after };
    } catch (error) {
      stream.abandon();
      throw error;
    }
  }

  private forget(tokenId: string, stream: ChangeStream): void {
    const streams = this.byToken.get(tokenId);
    if (!streams?.delete(stream)) return;
    this.count -= 1;
    this.valueStreams.delete(stream);
    if (streams.size === 0) this.byToken.delete(tokenId);
  }

  private async endRevoked(): Promise<void> {
    for (const [tokenId, streams] of [...this.byToken]) {
      if (await this.tokens.isActive(tokenId).catch(() => true)) continue;
      [...streams].forEach((stream) => stream.revoke());
    }
  }
}
