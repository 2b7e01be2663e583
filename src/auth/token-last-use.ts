import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { STORAGE, Storage } from '../storage/sql';
import { TokensRepository } from './tokens-repository';

/**
 * How coarse "last used" is. A use is written only when the time stored is older than this, so a
 * token's latest use lies within this much after its `lastUsedAt`; a token used all day costs one
 * small write a minute, not one per request.
 */
export const LAST_USE_GRANULARITY_MS = 60_000;

/** Whether a use at `now` is to be written, given the time stored (null: never used). */
export function lastUseDue(stored: string | null, now: Date): boolean {
  return stored === null || stored < sinceWhenRecent(now);
}

const sinceWhenRecent = (now: Date) => new Date(now.getTime() - LAST_USE_GRANULARITY_MS).toISOString();

/**
 * Records when tokens authenticate, off the request's path. Authentication has just read the
 * row, `last_used_at` with it, from the database every instance shares, so the rule holds across
 * instances with no state of its own: a write is queued only when the stored time is a minute
 * old, and the write itself re-checks (another instance may have written meanwhile). The request
 * never waits for it; a failed write is logged and not retried for a minute, so a database that
 * refuses writes is not asked once per request. Only the token's id is ever at hand here.
 */
@Injectable()
export class TokenLastUse implements BeforeApplicationShutdown {
  private readonly logger = new Logger('TokenLastUse');
  /** Writes in flight, one per token at most: concurrent requests of one token queue one write. */
  private readonly writing = new Map<string, Promise<void>>();
  /** Tokens whose last write failed, until when they are left alone. */
  private readonly failedUntil = new Map<string, number>();

  constructor(
    @Inject(STORAGE) private readonly storage: Storage,
    private readonly tokens: TokensRepository,
  ) {}

  /** A request authenticated with token `id`, whose row said it was last used at `stored`. */
  used(id: string, stored: string | null, now = new Date()): void {
    if (!lastUseDue(stored, now) || this.writing.has(id) || (this.failedUntil.get(id) ?? 0) > now.getTime()) return;
    const write = this.storage
      .transact((tx) => this.tokens.recordUse(tx, id, now.toISOString(), sinceWhenRecent(now)))
      .then(
        () => void this.failedUntil.delete(id),
        (error: unknown) => {
          this.failedUntil.set(id, now.getTime() + LAST_USE_GRANULARITY_MS);
          this.logger.warn({ err: error instanceof Error ? error.message : String(error), tokenId: id }, 'could not record when a token was last used');
        },
      )
      .finally(() => this.writing.delete(id));
    this.writing.set(id, write);
  }

  /** Lets the writes in flight finish before the storage closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.writing.values());
  }
}
