import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { CHANGE_EVENT, ChangeNotification, PushedChange, REVOKED_EVENT, STREAM_RETRY_MS } from '../contract/change-notification';
import type { StreamLimits } from '../config/configuration';
import { StoredEventType } from '../event-store/stored-event-types';
import type { ChangeFeed } from './change-feed';
import { ChangeLog, ChangePosition, LOG_START } from './change-log';
import type { Push } from './value-pushes';

/** Changes read from the log per query while a stream catches up. */
const CATCH_UP_PAGE = 500;
/** How long an ending stream's reader has to take its last bytes before the connection is dropped. */
const END_GRACE_MS = 500;

type Settings = Pick<StreamLimits, 'heartbeatMs' | 'maxUnsentBytes'>;

/** A values-mode stream's source of what to write for a live change (ValuePushes, for its reader). */
export type ValuePusher = (change: ChangeNotification) => Promise<Push>;

/**
 * One reader's `GET /api/v1/changes` (SPEC §3), written as server-sent events straight to the
 * response: a write goes to the kernel at once while the reader keeps up, so what stays in the
 * response's buffer is exactly what the reader has not taken.
 *
 * It starts after a position, reads the changes after it from the log a page at a time (the
 * next page only once the last one has been taken without push-back), and, once it has reached
 * the feed's position, joins the feed and drops whatever the feed hands it that it already sent.
 * Reaching the feed and joining it happen in one synchronous step, and the feed moves its
 * position before its listeners hear of a change, so nothing falls between the two: each change
 * goes out once, in order.
 *
 * A reader that leaves more than `maxUnsentBytes` untaken is disconnected rather than buffered
 * for: it reconnects with the last id it did read and catches up from the log. The check runs
 * once a burst has had its chance to reach the kernel (Node sends a tick's writes together).
 *
 * In values mode (an executor's `?values=true`, with `pusher`) a live change waits for its
 * value and that value's audit entry before it is written; later changes queue behind it, so
 * the order holds. Catch-up changes carry no value (`withheld: catch-up`): the reader resolves.
 */
export class ChangeStream {
  private stopListening: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private boundCheck: NodeJS.Immediate | undefined;
  private ended = false;
  private position: ChangePosition = LOG_START;
  /** Values mode: the live changes written so far, in order (each waits for its value's record). */
  private outbox: Promise<void> = Promise.resolve();

  constructor(
    private readonly feed: ChangeFeed,
    private readonly log: ChangeLog,
    private readonly response: ServerResponse,
    private readonly keys: ReadonlySet<string> | undefined,
    private readonly settings: Settings,
    private readonly onEnded: () => void,
    private readonly pusher?: ValuePusher,
  ) {
    response.once('close', () => this.finish());
  }

  /** Sends the head of the answer, then catches up from the log after `position` and follows the feed. */
  async run(headers: OutgoingHttpHeaders, position: ChangePosition): Promise<void> {
    if (this.ended) return;
    this.position = position;
    // The edge's socket timeout is for requests that stall; this answer is silent by design.
    this.response.socket?.setTimeout(0);
    this.response.writeHead(200, headers);
    this.write(`retry: ${STREAM_RETRY_MS}\n\n`);
    // A comment line: proxies and readers see the connection alive, and a dead one is found.
    this.heartbeat = setInterval(() => this.write(':\n\n'), this.settings.heartbeatMs);
    this.heartbeat.unref();
    try {
      while (!this.ended) {
        if (this.position.seq >= this.feed.position.seq) return this.join();
        const page = await this.log.page(this.position, CATCH_UP_PAGE);
        if (page.length === 0) return this.join();
        for (const change of page) this.send(change);
        await this.taken();
      }
    } catch {
      // The log could not be read: the reader reconnects with its last id and loses nothing.
      this.disconnect();
    }
  }

  /** Tells the reader its token was revoked, and ends. */
  revoke(): void {
    this.write(`event: ${REVOKED_EVENT}\ndata: ${JSON.stringify({ detail: 'The token of this stream was revoked.' })}\n\n`);
    this.end();
  }

  /** Ends the stream (the instance stops, the token is revoked): a reader that keeps up gets every byte first. */
  end(): void {
    if (this.ended) return;
    const drop = setTimeout(() => this.response.destroy(), END_GRACE_MS);
    drop.unref();
    this.response.once('close', () => clearTimeout(drop));
    if (this.response.headersSent) this.response.end();
    this.finish();
  }

  /** Ends a stream whose answer never started (its start failed): the error is answered instead. */
  abandon(): void {
    this.finish();
  }

  private join(): void {
    this.stopListening = this.feed.listen((change) => this.live(change));
  }

  private live(change: ChangeNotification): void {
    if (change.seq <= this.position.seq) return;
    if (this.pusher) return this.push(change, this.pusher);
    this.send(change);
    this.checkBound();
  }

  /** Values mode: written in order, once the pusher has its value recorded (or says why none). */
  private push(change: ChangeNotification, pusher: ValuePusher): void {
    this.position = { seq: change.seq, revision: change.revision };
    if (this.keys && !this.keys.has(change.key)) return;
    // Started at once, so every stream that hears this change shares the read and the record;
    // its failure is caught at once too (an earlier push may hold the queue for a while).
    const pushed: Promise<Push | undefined> = pusher(change).catch(() => undefined);
    this.outbox = this.outbox.then(async () => {
      const push = await pushed;
      // Not read or not recorded: the reader reconnects with its last id and resolves.
      if (!push) return this.disconnect();
      if ('revoked' in push) return this.revoke();
      this.writeChange(push.data);
      this.checkBound();
    });
    // The queue must never hold a rejection: unhandled, it would end the process, not the stream.
    this.outbox = this.outbox.catch(() => this.disconnect());
  }

  private checkBound(): void {
    this.boundCheck ??= setImmediate(() => {
      this.boundCheck = undefined;
      if (this.response.writableLength > this.settings.maxUnsentBytes) this.disconnect();
    });
  }

  private send(change: ChangeNotification): void {
    this.position = { seq: change.seq, revision: change.revision };
    if (this.keys && !this.keys.has(change.key)) return;
    this.writeChange(this.pusher && change.type !== StoredEventType.SecretRemoved ? { ...change, withheld: 'catch-up' } : change);
  }

  private writeChange(change: PushedChange): void {
    this.write(`id: ${change.revision}\nevent: ${CHANGE_EVENT}\ndata: ${JSON.stringify(change)}\n\n`);
  }

  private write(text: string): void {
    // Before run() has sent the head, nothing may go out: a write would send Node's default one.
    if (!this.ended && this.response.headersSent) this.response.write(text);
  }

  /** Resolves once what was written has been taken without push-back (or the stream ended). */
  private async taken(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (!this.ended && this.response.writableNeedDrain) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.response.off('drain', done);
          this.response.off('close', done);
          resolve();
        };
        this.response.once('drain', done);
        this.response.once('close', done);
      });
    }
  }

  private disconnect(): void {
    this.finish();
    this.response.destroy();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.heartbeat);
    if (this.boundCheck) clearImmediate(this.boundCheck);
    this.stopListening?.();
    this.onEnded();
  }
}
