import { inspect } from 'node:util';
import { MAX_STREAM_KEYS, PushedChange, isChangeNotification } from '../contract/change-notification';
import { allChangesSubject } from '../nats/contract';
import { NatsLink } from '../nats/nats-link';
import { redactUrl } from '../common/redact-url';
import { DEFAULT_SUBJECT_PREFIX, NatsOptions } from '../nats/nats-options';
import { ChangeStreamLink, StreamStatus, ValuesScope } from './change-stream-link';
import { ContextRefresher } from './context-refresher';
import type { PluginManifest } from './manifest';
import { ClientLog, NotificationLiveness, consoleLog } from './notification-liveness';
import { PluginContext, Precedence, logWentBack } from './plugin-context';
import type { ResolveReply } from '../contract/api-types';
import { serviceToken, serviceUrl } from './service-address';
import { ServiceHttp } from './service-http';

export interface SecretsClientOptions {
  /** The service's base URL, e.g. https://secrets.internal:3000: the only place values come from. */
  url: string;
  /** An executor token. Sent to `url` only, never over NATS. */
  token: string;
  /**
   * Where change notifications come from (hints only: they carry no values). Without it they
   * come from the service itself, over its change stream (`GET /api/v1/changes` at `url`).
   * `prefix` is the ledger's SECRETS_NATS_PREFIX.
   */
  nats?: NatsOptions & { prefix?: string };
  /**
   * Whether to follow changes at all (default true). False: values change only at hydrate and
   * the periodic resync (a one-shot script has nothing to hear, and need not hold a stream open).
   */
  follow?: boolean;
  /** PEM of a CA to trust for `url` (SECRETS_CA_FILE), e.g. a private or self-signed one. */
  ca?: string | Buffer;
  precedence?: Precedence;
  /** Mean interval of the backstop resync; each wait is jittered ±20 %. Default 5 minutes. */
  resyncIntervalMs?: number;
  /** Where env-first and store-first look; default process.env, read at each lookup. */
  env?: NodeJS.ProcessEnv;
  requestTimeoutMs?: number;
  /** How long a false notification holds a context's next refresh (see ContextRefresher). Default 250 ms. */
  notificationHoldMs?: number;
  /**
   * Where the client says that change notifications cannot be received (warn, with the reason:
   * the stream or NATS unreachable or refusing us) and that they are back (info). Default: the console.
   */
  log?: ClientLog;
}

const DEFAULT_RESYNC_MS = 5 * 60_000;
const DEFAULT_HOLD_MS = 250;
const FIRST_CONNECT_WAIT_MS = 2_000;

interface Hydrated {
  context: PluginContext;
  refresher: ContextRefresher;
  /** The first resolve: concurrent hydrate() calls for one manifest share it. */
  ready: Promise<void>;
}

/**
 * The executor SDK (SPEC §5). Holds one hydrated context per manifest and keeps each current:
 * a notification (from the service's change stream, or NATS when `nats` is given) for a
 * declared key refreshes that key in its context at once (a delta resolve of the keys named
 * since the context's last refresh); a revision gap, a reconnect or the jittered periodic timer
 * refreshes every key of all of them (a full resolve). A refresh is `POST /api/v1/resolve` over
 * a kept-alive HTTP(S) connection, so the service's rules and audit apply. Notifications are
 * hints: a context's revisions come only from the service's replies, and what a notification
 * claims decides nothing but whether to ask, and which key.
 */
export class SecretsClient {
  readonly #http: ServiceHttp;
  private readonly contexts = new Map<string, Hydrated>();
  private readonly link: NatsLink | undefined;
  /** The service's change stream: the source of notifications when `nats` is not given. */
  private readonly stream: ChangeStreamLink | undefined;
  /** Why the stream is down, while it is. */
  private streamProblem: string | undefined;
  /**
   * The revision of the notification before this one, to notice a gap (a lost notification).
   * Untrusted, like the notification: a forged one can cost a resync, nothing more.
   */
  private lastNotified: number | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Drives every context's `live`. */
  private readonly liveness: NotificationLiveness;

  private constructor(private readonly options: SecretsClientOptions) {
    this.#http = new ServiceHttp(options.url, options.token, { ca: options.ca, timeoutMs: options.requestTimeoutMs ?? 5_000 });
    // Credentials in options.nats.url move into the connection options here; a conflict throws.
    const follow = options.follow ?? true;
    this.link = follow && options.nats ? new NatsLink(options.nats, 'secrets-ledger-client') : undefined;
    this.stream =
      follow && !options.nats
        ? new ChangeStreamLink({
            base: serviceUrl(options.url, 'the secrets service URL'),
            token: serviceToken(options.token, 'the token'),
            ca: options.ca,
            onChange: (change, scope) => this.onStreamChange(change, scope),
            onStatus: (status) => this.streamStatus(status),
          })
        : undefined;
    this.liveness = new NotificationLiveness((live) => this.contexts.forEach(({ context }) => context.markLive(live)), options.log ?? consoleLog);
  }

  static async connect(options: SecretsClientOptions): Promise<SecretsClient> {
    const client = new SecretsClient(options);
    await client.start();
    return client;
  }

  /** The context for a manifest: hydrated on first use, then the cached one. */
  async hydrate(manifest: PluginManifest): Promise<PluginContext> {
    const cacheKey = JSON.stringify([manifest.name, manifest.version ?? null, [...manifest.secrets].sort()]);
    const cached = this.contexts.get(cacheKey);
    if (cached) {
      await cached.ready;
      return cached.context;
    }
    const context = new PluginContext(manifest, this.options.precedence ?? 'env-first', this.options.env ?? process.env);
    context.markLive(this.liveness.live);
    const ready = context.storeKeys.length > 0 ? this.resolve(context).then((reply) => void context.applySnapshot(reply)) : Promise.resolve();
    const refresher = new ContextRefresher((keys) => this.refresh(context, keys), this.options.notificationHoldMs ?? DEFAULT_HOLD_MS);
    this.contexts.set(cacheKey, { context, refresher, ready });
    try {
      await ready;
    } catch (error) {
      // Nothing known yet, so nothing to keep: the caller sees why (401, 403, unreachable…).
      this.contexts.delete(cacheKey);
      void this.stream?.follow(this.valuesScope());
      throw error;
    }
    await this.followValues();
    return context;
  }

  /** Refreshes every context now (also what a gap, a reconnect and the timer do). */
  async resync(claimedRevision?: number): Promise<void> {
    await Promise.all([...this.contexts.values()].map((hydrated) => hydrated.ready.then(() => hydrated.refresher.request(claimedRevision), () => undefined)));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.resyncTimer);
    await Promise.all([...this.contexts.values()].map((hydrated) => hydrated.refresher.idle()));
    this.contexts.forEach((hydrated) => {
      hydrated.refresher.close();
      hydrated.context.markLive(false);
    });
    this.contexts.clear();
    this.stream?.close();
    await this.link?.close();
    this.#http.close();
  }

  toString(): string {
    return `[SecretsClient ${this.#http.url}]`;
  }

  toJSON(): { url: string; nats?: string } {
    return { url: this.#http.url, ...(this.options.nats ? { nats: redactUrl(this.options.nats.url) } : {}) };
  }

  [inspect.custom](): string {
    return this.toString();
  }

  private async start(): Promise<void> {
    this.scheduleResync();
    if (this.stream) return this.startStream(this.stream);
    const link = this.link;
    if (!link) return;
    link.subscribe(allChangesSubject(this.options.nats?.prefix ?? DEFAULT_SUBJECT_PREFIX), ({ data }) => this.onNotification(data));
    link.onStatus((status) => {
      if (this.closed) return;
      if (status !== 'connected') return this.liveness.report('nats', false, link.lastError ?? `NATS at ${link.where}: ${status}`);
      // Live once the server has our subscription (the flush); whatever happened while we were
      // away (or before we first connected) is fetched again.
      void link
        .flush()
        .then(() => link.connected && !this.closed && this.liveness.report('nats', true))
        .catch(() => undefined);
      void this.resync();
    });
    // Refused or unreachable: a new reason is worth a line, not every retry.
    link.onError((problem) => !link.connected && !this.closed && this.liveness.report('nats', false, problem));
    link.start();
    // Not connected yet is fine: HTTP serves until NATS comes, and connecting triggers a resync.
    const deadline = Date.now() + FIRST_CONNECT_WAIT_MS;
    while (!link.connected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    if (link.connected) await link.flush().catch(() => undefined);
  }

  /** Live as soon as the service answers; the first answer may take a moment, as NATS's first connection may. */
  private async startStream(stream: ChangeStreamLink): Promise<void> {
    stream.start();
    const deadline = Date.now() + FIRST_CONNECT_WAIT_MS;
    while (!this.liveness.live && !this.streamProblem && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  private streamStatus(status: StreamStatus): void {
    if (this.closed) return;
    this.streamProblem = status.live ? undefined : status.problem;
    this.liveness.report('stream', status.live, status.live ? undefined : `the change stream at ${this.#http.url}: ${status.problem}`);
    // Whatever happened while we were away (or before the stream first opened) is fetched again.
    if (status.live) void this.resync();
  }

  private onNotification(data: unknown): void {
    if (this.closed || !isChangeNotification(data)) return;
    const previous = this.lastNotified;
    this.lastNotified = data.revision;
    if (previous !== undefined && data.revision > previous + 1) {
      // A gap: some notification never reached us. Only a full resync is sure to be right.
      void this.resync(data.revision);
      return;
    }
    if (previous !== undefined && data.revision < previous) {
      // A step back: a notification published again (a relay that restarted behind its last
      // position), a forged one, or a log restored from a backup, whose changes would all look
      // old here. A full resync tells them apart: only after a restore does its reply go back
      // (applySnapshot). Its claim is unbounded, so a flood of steps back holds the refreshes
      // as a flood of false claims does.
      void this.resync(Number.POSITIVE_INFINITY);
      return;
    }
    // Not newer than the context's last read of the key (a duplicate, a late arrival): nothing to do.
    for (const { context, refresher } of this.contexts.values()) {
      if (context.storeKeys.includes(data.key) && data.revision > context.readAt(data.key)) void refresher.request(data.revision, [data.key]);
    }
  }

  /** Puts the stream in the values scope of the contexts held; waits (a while) for the service's answer. */
  private async followValues(): Promise<void> {
    if (!this.stream) return;
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([this.stream.follow(this.valuesScope()), new Promise((resolve) => (waited = setTimeout(resolve, FIRST_CONNECT_WAIT_MS)))]);
    clearTimeout(waited);
  }

  /**
   * The stream's values scope (SPEC §5): when every context that asks the store shares one
   * plugin, that plugin and their keys, so a change's value comes with its notification; with
   * several plugins (one stream carries one plugin's values), value-free notifications.
   */
  private valuesScope(): ValuesScope | undefined {
    const asking = [...this.contexts.values()].map(({ context }) => context).filter((context) => context.storeKeys.length > 0);
    const plugins = new Set(asking.map((context) => context.plugin));
    if (plugins.size !== 1) return undefined;
    const keys = [...new Set(asking.flatMap((context) => context.storeKeys))].sort();
    return keys.length <= MAX_STREAM_KEYS ? { plugin: [...plugins][0], keys } : undefined;
  }

  /**
   * A change from the service's own stream. Value-free: a notification like NATS's. Values
   * mode: the stream carries only the scope's keys and loses none (it resumes from its last id),
   * so there is no gap to watch for; a pushed value goes into its contexts at once, and a change
   * without one (a removal, catch-up, a withheld value) is resolved as a notification is.
   */
  private onStreamChange(change: PushedChange, scope: ValuesScope | undefined): void {
    if (!scope) return this.onNotification(change);
    if (this.closed) return;
    for (const { context, refresher } of this.contexts.values()) {
      // Not newer than the context's last read of the key (a duplicate, a late arrival): nothing to do.
      if (!context.storeKeys.includes(change.key) || change.revision <= context.readAt(change.key)) continue;
      if (change.value === undefined || context.plugin !== scope.plugin) {
        void refresher.request(change.revision, [change.key]);
        continue;
      }
      // Keys whose resolve failed (a value-less event while the service was away) are asked
      // now: a pushed value of another key would otherwise leave them as they were.
      if (refresher.owes) void refresher.request(change.revision, []);
      try {
        context.applyPushed(change.key, change.value, change.revision);
      } catch (listenerError) {
        // A `change` listener's exception is the listener's, not the stream's.
        setImmediate(() => {
          throw listenerError;
        });
      }
    }
  }

  /**
   * One refresh of a context, of `keys` (a delta) or of every store key; resolves with the
   * revision the service answered.
   */
  private async refresh(context: PluginContext, keys: string[] | undefined): Promise<number> {
    const asked = keys === undefined ? context.storeKeys : context.storeKeys.filter((key) => keys.includes(key));
    // Nothing the store could hold (no keys, or only environment-only ones): nothing to ask.
    if (this.closed || asked.length === 0) return context.revision;
    const askedAt = context.revision;
    let reply: ResolveReply;
    try {
      reply = await this.#http.resolve(context.plugin, [...asked]);
    } catch (error) {
      // Unreachable or refusing: keep the last values and say so.
      context.markStale();
      throw error;
    }
    // Said (and, after a delta, every key asked again) before the context takes the reply, so a
    // `change` listener that throws cannot skip it; the context forgets its reads itself (apply).
    if (logWentBack(reply, askedAt)) this.sayLogWentBack(context, askedAt, reply.revision, keys !== undefined);
    // Outside the try: an exception thrown by a `change` listener is the listener's, not staleness.
    try {
      if (keys === undefined) context.applySnapshot(reply, askedAt);
      else context.applyDelta(reply, asked, askedAt);
    } catch (listenerError) {
      // As any EventEmitter listener's exception would: thrown, but not taken for staleness.
      setImmediate(() => {
        throw listenerError;
      });
    }
    return reply.revision;
  }

  /** Says that the service's log went back, and resyncs every key of the context after a delta. */
  private sayLogWentBack(context: PluginContext, heldRevision: number, answered: number, delta: boolean): void {
    (this.options.log ?? consoleLog)(
      'warn',
      `the service at ${this.#http.url} answered revision ${answered} after this client had read revision ${heldRevision}: its log went back (restored from a backup, or another database); ${context.plugin} now takes its values as they are`,
    );
    if (delta) void [...this.contexts.values()].find((hydrated) => hydrated.context === context)?.refresher.request();
  }

  private resolve(context: PluginContext): Promise<ResolveReply> {
    return this.#http.resolve(context.plugin, [...context.storeKeys]);
  }

  private scheduleResync(): void {
    if (this.closed) return;
    const mean = this.options.resyncIntervalMs ?? DEFAULT_RESYNC_MS;
    // Jitter, so a fleet of executors started together does not resync in step.
    const wait = mean * (0.8 + 0.4 * Math.random());
    this.resyncTimer = setTimeout(() => void this.resync().finally(() => this.scheduleResync()), wait);
    this.resyncTimer.unref();
  }
}
