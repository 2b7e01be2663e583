import { Injectable, Logger } from '@nestjs/common';
import { Principal, actorOf } from '../auth/principal';
import { TokensService } from '../auth/tokens.service';
import type { ChangeNotification, PushedChange } from '../contract/change-notification';
import { StoredEventType } from '../event-store/stored-event-types';
import { DeliveryRecords } from '../resolve/delivery-records';
import { ResolveService, ValuesRead } from '../resolve/resolve.service';

/** What a values-mode stream writes for a live change, or that its token is no longer active. */
export type Push = { data: PushedChange } | { revoked: true };

/** Who a values-mode stream pushes to: checked by ResolveService.authorize when it opened. */
export interface PushTarget {
  principal: Principal;
  plugin: string;
}

/**
 * The values that live changes carry on executors' values-mode streams (SPEC §3). Every stream
 * hears a change in the same turn of the feed, so the work is shared: the key is read once per
 * change for all of them (ResolveService.read, the rules resolve applies), each token is checked
 * once per change, and the deliveries of one token and plugin land in one `SecretsResolved`
 * entry with `deliveries: n` (DeliveryRecords). A value is handed out only once its entry is
 * durable.
 */
@Injectable()
export class ValuePushes {
  private readonly reads = new Map<number, Promise<ValuesRead>>();
  private readonly activeChecks = new Map<string, Promise<boolean>>();
  private readonly logger = new Logger('ValuePushes');
  /** The last change whose push failed and was logged: one line per change, not per stream. */
  private lastFailedSeq = 0;

  constructor(
    private readonly resolver: ResolveService,
    private readonly deliveries: DeliveryRecords,
    private readonly tokens: TokensService,
  ) {}

  /**
   * What to write for `change` (one of the target's keys) on the target's stream, once recorded.
   * Rejects when the value cannot be read or its entry recorded: the stream then ends, and its
   * reader resumes from its last id and resolves. That is logged, once per change.
   */
  async prepare(change: ChangeNotification, target: PushTarget): Promise<Push> {
    try {
      return await this.prepareOrFail(change, target);
    } catch (error) {
      if (change.seq !== this.lastFailedSeq) {
        this.lastFailedSeq = change.seq;
        const reason = error instanceof Error ? error.message : String(error);
        this.logger.warn(`the value of ${change.key} at revision ${change.revision} was not pushed; its values-mode streams end and their readers resolve: ${reason}`);
      }
      throw error;
    }
  }

  private async prepareOrFail(change: ChangeNotification, target: PushTarget): Promise<Push> {
    if (change.type === StoredEventType.SecretRemoved) return { data: change };
    const [found, active] = await Promise.all([
      shared(this.reads, change.seq, () => this.resolver.read([change.key])),
      // Read after the change committed: a token revoked before it gets none of its value.
      shared(this.activeChecks, `${change.seq} ${target.principal.id}`, () => this.tokens.isActive(target.principal.id)),
    ]);
    if (!active) return { revoked: true };
    const opened = found.values.get(change.key);
    // Exactly this version's value or none: a stream never sends an older value after a newer one.
    if (opened && opened.version !== change.version) return { data: { ...change, withheld: 'superseded' } };
    const expired = found.expired.includes(change.key);
    const unreadable = found.unreadable.filter((sighting) => sighting.key === change.key);
    if (!opened && !expired && unreadable.length === 0) return { data: { ...change, withheld: 'superseded' } };
    await this.deliveries.record({
      actor: actorOf(target.principal),
      plugin: target.plugin,
      read: opened ? [{ key: change.key, version: opened.version }] : [],
      missing: [],
      expired: expired ? [change.key] : [],
      unreadable,
      revision: found.revision,
      asked: [change.key],
      via: 'stream',
    });
    if (opened) return { data: { ...change, value: opened.value.reveal() } };
    return { data: { ...change, withheld: expired ? 'expired' : 'unreadable' } };
  }
}

/** One run of `work` for every caller asking under `id` while it runs. */
function shared<Id, T>(running: Map<Id, Promise<T>>, id: Id, work: () => Promise<T>): Promise<T> {
  const existing = running.get(id);
  if (existing) return existing;
  const started = work().finally(() => running.delete(id));
  running.set(id, started);
  return started;
}
