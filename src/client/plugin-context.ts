import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import type { ResolveReply } from '../contract/api-types';
import { MissingSecretError, UndeclaredSecretError } from './errors';
import { PluginManifest, storeKeys } from './manifest';

/**
 * Where a declared key's value comes from (SPEC §5):
 * - `env-first` (default, FiftyOne Teams' order): a non-empty environment variable named like
 *   the key wins over the stored value;
 * - `store-first`: the stored value, else a non-empty environment variable;
 * - `store-only`: the stored value alone.
 * An empty variable never counts: `FOO=` must not hide a stored FOO.
 */
export type Precedence = 'env-first' | 'store-first' | 'store-only';
export type SecretSource = 'env' | 'store';

interface Resolved {
  value: string;
  source: SecretSource;
}

/** The read side of a context: values of declared keys only, and never printable. */
export class SecretsAccessor {
  constructor(
    private readonly plugin: string,
    private readonly declared: ReadonlySet<string>,
    private readonly lookup: (key: string) => Resolved | undefined,
  ) {}

  get(key: string): string | undefined {
    return this.resolved(key)?.value;
  }

  /** The value, or a MissingSecretError naming the key. */
  require(key: string): string {
    const value = this.get(key);
    if (value === undefined) throw new MissingSecretError(key, this.plugin);
    return value;
  }

  has(key: string): boolean {
    return this.resolved(key) !== undefined;
  }

  /** The declared keys that have a value right now. */
  keys(): string[] {
    return [...this.declared].filter((key) => this.lookup(key) !== undefined);
  }

  source(key: string): SecretSource | undefined {
    return this.resolved(key)?.source;
  }

  toString(): string {
    return `[SecretsAccessor ${this.plugin}: ${this.keys().join(', ')}]`;
  }

  toJSON(): { plugin: string; keys: string[] } {
    return { plugin: this.plugin, keys: this.keys() };
  }

  [inspect.custom](): string {
    return this.toString();
  }

  private resolved(key: string): Resolved | undefined {
    if (!this.declared.has(key)) throw new UndeclaredSecretError(key, this.plugin);
    return this.lookup(key);
  }
}

/**
 * A plugin's hydrated execution context: the declared secrets, kept current by the client.
 * Emits `change` with the keys whose effective value changed, and `live` when it starts or
 * stops hearing of changes as they happen. Stored values live in a private field and leave only
 * through `secrets.get/require`.
 */
export class PluginContext {
  readonly plugin: string;
  readonly declared: readonly string[];
  /** The declared keys asked of the store: a key that breaks its key rule comes only from the environment. */
  readonly storeKeys: readonly string[];
  readonly secrets: SecretsAccessor;
  #stored = new Map<string, string>();
  /** Keys holding a value pushed over the values-mode stream, and the revision it came at. */
  #pushed = new Map<string, number>();
  #revision = -1;
  #stale = false;
  #live = false;
  readonly #events = new EventEmitter();

  constructor(
    manifest: PluginManifest,
    private readonly precedence: Precedence,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.plugin = manifest.name;
    this.declared = [...new Set(manifest.secrets)];
    this.storeKeys = storeKeys({ secrets: this.declared });
    this.secrets = new SecretsAccessor(this.plugin, new Set(this.declared), (key) => this.effective(key));
  }

  /** True while the service could not be reached on the last attempt; the last values stay. */
  get stale(): boolean {
    return this.#stale;
  }

  /**
   * True while change notifications reach this context as they happen (a notification source
   * is connected and subscribed); false while none can (NATS unreachable or refusing us, or
   * none configured): a change then arrives by the periodic resync only. Whatever source the
   * client has drives it, through markLive.
   */
  get live(): boolean {
    return this.#live;
  }

  /** The store-wide revision of the snapshot held (-1 before the first one). */
  get revision(): number {
    return this.#revision;
  }

  on(event: 'change', listener: (keys: string[]) => void): this;
  on(event: 'live', listener: (live: boolean) => void): this;
  on(event: 'change' | 'live', listener: ((keys: string[]) => void) | ((live: boolean) => void)): this {
    this.#events.on(event, listener);
    return this;
  }

  off(event: 'change', listener: (keys: string[]) => void): this;
  off(event: 'live', listener: (live: boolean) => void): this;
  off(event: 'change' | 'live', listener: ((keys: string[]) => void) | ((live: boolean) => void)): this {
    this.#events.off(event, listener);
    return this;
  }

  declares(key: string): boolean {
    return this.declared.includes(key);
  }

  /**
   * Takes a resolve reply as the new snapshot, unless it is older than the one held (replies
   * can overtake each other). Emits `change` for the keys whose effective value moved.
   */
  applySnapshot(reply: ResolveReply): void {
    this.#stale = false;
    if (reply.revision < this.#revision) return;
    const before = this.declared.map((key) => this.effective(key)?.value);
    const stored = new Map(Object.entries(reply.secrets).filter(([key]) => this.declares(key)));
    // A value pushed after the reply's revision is newer than what the reply read: it stays.
    const newer = [...this.#pushed].filter(([, revision]) => revision > reply.revision);
    for (const [key] of newer) {
      const pushed = this.#stored.get(key);
      if (pushed === undefined) stored.delete(key);
      else stored.set(key, pushed);
    }
    this.#pushed = new Map(newer);
    this.#stored = stored;
    this.#revision = reply.revision;
    this.emitChanged(before);
  }

  /**
   * Takes one key's value as the service pushed it on the client's own values-mode stream (SPEC
   * §3): the value the key took at `revision`. Ignored when the context already holds a read of
   * the key at least as new (a snapshot at or after `revision`, or a later push).
   */
  applyPushed(key: string, value: string, revision: number): void {
    if (!this.storeKeys.includes(key) || revision <= this.#revision || (this.#pushed.get(key) ?? -1) >= revision) return;
    const before = this.declared.map((declared) => this.effective(declared)?.value);
    this.#stored.set(key, value);
    this.#pushed.set(key, revision);
    this.emitChanged(before);
  }

  markStale(): void {
    this.#stale = true;
  }

  /** Emits `live` when the value moves. */
  markLive(live: boolean): void {
    if (live === this.#live) return;
    this.#live = live;
    this.#events.emit('live', live);
  }

  toString(): string {
    return `[PluginContext ${this.plugin} revision ${this.#revision}${this.#stale ? ' stale' : ''}${this.#live ? ' live' : ''}]`;
  }

  toJSON(): { plugin: string; declared: string[]; revision: number; stale: boolean; live: boolean } {
    return { plugin: this.plugin, declared: [...this.declared], revision: this.#revision, stale: this.#stale, live: this.#live };
  }

  [inspect.custom](): string {
    return this.toString();
  }

  private emitChanged(before: (string | undefined)[]): void {
    const changed = this.declared.filter((key, i) => this.effective(key)?.value !== before[i]);
    if (changed.length > 0) this.#events.emit('change', changed);
  }

  private effective(key: string): Resolved | undefined {
    const fromEnv = this.precedence === 'store-only' ? undefined : this.env[key] || undefined;
    const fromStore = this.#stored.get(key);
    if (fromEnv !== undefined && (this.precedence === 'env-first' || fromStore === undefined)) return { value: fromEnv, source: 'env' };
    return fromStore !== undefined ? { value: fromStore, source: 'store' } : undefined;
  }
}
