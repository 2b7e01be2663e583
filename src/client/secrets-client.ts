import { inspect } from 'node:util';
import { CoalescedTask } from '../common/coalesced-task';
import { ALL_CHANGES_SUBJECT, ChangeNotification, RESOLVE_SUBJECT, ResolveErrorReply, ResolveReply } from '../nats/contract';
import { NatsLink } from '../nats/nats-link';
import { SecretsServiceError } from './errors';
import type { PluginManifest } from './manifest';
import { PluginContext, Precedence } from './plugin-context';

export interface SecretsClientOptions {
  /** The service's HTTP base URL, e.g. http://127.0.0.1:3000. */
  url: string;
  /** Notifications and NATS resolve; without it the client relies on HTTP and periodic resyncs. */
  natsUrl?: string;
  /** An executor token. */
  token: string;
  precedence?: Precedence;
  /** Mean interval of the backstop resync; each wait is jittered ±20 %. Default 5 minutes. */
  resyncIntervalMs?: number;
  /** Where env-first and store-first look; default process.env, read at each lookup. */
  env?: NodeJS.ProcessEnv;
  requestTimeoutMs?: number;
}

const DEFAULT_RESYNC_MS = 5 * 60_000;
const FIRST_CONNECT_WAIT_MS = 2_000;

interface Hydrated {
  context: PluginContext;
  refresh: CoalescedTask;
  /** The first resolve: concurrent hydrate() calls for one manifest share it. */
  ready: Promise<void>;
}

/**
 * The executor SDK (SPEC §5). Holds one hydrated context per manifest and keeps each current:
 * a notification for a declared key refreshes its context at once; a revision gap, a reconnect
 * or the jittered periodic timer refreshes all of them. A refresh is a resolve (NATS request
 * when connected, HTTP otherwise) of the manifest's keys, so the service's rules and audit
 * apply; the notifications themselves carry no values.
 */
export class SecretsClient {
  readonly #token: string;
  private readonly contexts = new Map<string, Hydrated>();
  private readonly link: NatsLink | undefined;
  /** The highest revision seen in notifications or replies: the next notification should be +1. */
  private knownRevision: number | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(private readonly options: SecretsClientOptions) {
    this.#token = options.token;
    this.link = options.natsUrl ? new NatsLink(options.natsUrl, 'secrets-ledger-client') : undefined;
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
    const ready = context.storeKeys.length > 0 ? this.resolve(context).then((reply) => context.applySnapshot(reply)) : Promise.resolve();
    this.contexts.set(cacheKey, { context, refresh: new CoalescedTask(() => this.refresh(context)), ready });
    try {
      await ready;
    } catch (error) {
      // Nothing known yet, so nothing to keep: the caller sees why (401, 403, unreachable…).
      this.contexts.delete(cacheKey);
      throw error;
    }
    return context;
  }

  /** Refreshes every context now (also what a gap, a reconnect and the timer do). */
  async resync(): Promise<void> {
    await Promise.all([...this.contexts.values()].map((hydrated) => hydrated.ready.then(() => hydrated.refresh.run(), () => undefined)));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.resyncTimer);
    await Promise.all([...this.contexts.values()].map((hydrated) => hydrated.refresh.idle()));
    this.contexts.clear();
    await this.link?.close();
  }

  toString(): string {
    return `[SecretsClient ${this.options.url}]`;
  }

  toJSON(): { url: string; natsUrl?: string } {
    return { url: this.options.url, natsUrl: this.options.natsUrl };
  }

  [inspect.custom](): string {
    return this.toString();
  }

  private async start(): Promise<void> {
    this.scheduleResync();
    const link = this.link;
    if (!link) return;
    link.subscribe(ALL_CHANGES_SUBJECT, ({ data }) => this.onNotification(data));
    // Whatever happened while we were away (or before we first connected) is fetched again.
    link.onStatus((status) => status === 'connected' && void this.resync());
    link.start();
    // Not connected yet is fine: HTTP serves until NATS comes, and connecting triggers a resync.
    const deadline = Date.now() + FIRST_CONNECT_WAIT_MS;
    while (!link.connected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    if (link.connected) await link.flush().catch(() => undefined);
  }

  private onNotification(data: unknown): void {
    if (!isNotification(data)) return;
    const known = this.knownRevision;
    if (known === undefined || data.revision > known) this.knownRevision = data.revision;
    if (known !== undefined && data.revision > known + 1) {
      // A gap: some notification never reached us. Only a full resync is sure to be right.
      void this.resync();
      return;
    }
    // Duplicates and late arrivals are older than the snapshot a context holds: nothing to do.
    for (const { context, refresh } of this.contexts.values()) {
      if (context.declares(data.key) && data.revision > context.revision) void refresh.run();
    }
  }

  private async refresh(context: PluginContext): Promise<void> {
    // Nothing the store could hold (no keys, or only environment-only ones): nothing to ask.
    if (this.closed || context.storeKeys.length === 0) return;
    let reply: ResolveReply;
    try {
      reply = await this.resolve(context);
    } catch {
      // Unreachable or refusing: keep the last values and say so.
      context.markStale();
      return;
    }
    // Outside the try: an exception thrown by a `change` listener is the listener's, not staleness.
    context.applySnapshot(reply);
  }

  private async resolve(context: PluginContext): Promise<ResolveReply> {
    const request = { plugin: context.plugin, keys: [...context.storeKeys] };
    // Over NATS when connected; HTTP when not, or when NATS gives no answer (a refusal is final).
    const reply = this.link?.connected
      ? await this.resolveOverNats(request).catch((error) => (error instanceof SecretsServiceError ? Promise.reject(error) : this.resolveOverHttp(request)))
      : await this.resolveOverHttp(request);
    if (this.knownRevision === undefined || reply.revision > this.knownRevision) this.knownRevision = reply.revision;
    return reply;
  }

  private async resolveOverNats(request: { plugin: string; keys: string[] }): Promise<ResolveReply> {
    const reply = (await this.link!.request(RESOLVE_SUBJECT, { token: this.#token, ...request }, this.timeoutMs)) as ResolveReply | ResolveErrorReply;
    if ('error' in reply) throw new SecretsServiceError(reply.error.status, reply.error.detail);
    return reply;
  }

  private async resolveOverHttp(request: { plugin: string; keys: string[] }): Promise<ResolveReply> {
    const response = await fetch(new URL('/api/v1/resolve', this.options.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${this.#token}`, 'content-type': 'application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!response.ok) {
      const problem = (await response.json().catch(() => ({}))) as { detail?: string };
      throw new SecretsServiceError(response.status, problem.detail ?? response.statusText);
    }
    return (await response.json()) as ResolveReply;
  }

  private get timeoutMs(): number {
    return this.options.requestTimeoutMs ?? 5_000;
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

function isNotification(data: unknown): data is ChangeNotification {
  const n = data as ChangeNotification;
  return typeof n === 'object' && n !== null && typeof n.key === 'string' && Number.isInteger(n.revision) && Number.isInteger(n.version);
}
