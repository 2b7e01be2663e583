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

/**
 * Whether a reply says the service's log went back. The service reads committed state, so a
 * resolve sent while a context held revision `askedAt` is answered at `askedAt` or later; a
 * reply below it means the log itself went back: a restore from a backup, or a service on
 * another database.
 */
export function logWentBack(reply: ResolveReply, askedAt: number): boolean {
  return reply.revision < askedAt;
}

/** A store key as the context last read it: its value (none: missing, unreadable, expired) and the revision of the reply it came in. */
interface StoredRead {
  value: string | undefined;
  revision: number;
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
  #stored = new Map<string, StoredRead>();
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

  /**
   * The newest store-wide revision among the replies the context has taken, full or delta (-1
   * before the first). Each stored key was read at its own revision (`readAt`): a delta reply
   * reads only the keys notifications named, so `revision` vouches for the others only as far
   * as notifications do — every change after a key's read has a notification on its way or a
   * refresh pending, and a lost one (a revision gap) makes the client resolve everything again.
   */
  get revision(): number {
    return this.#revision;
  }

  /** The revision of the reply a declared store key was last read in (-1 while never read). */
  readAt(key: string): number {
    return this.#stored.get(key)?.revision ?? -1;
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
   * Takes a reply to a resolve of every store key (a full snapshot). `askedAt`: the context's
   * `revision` when the resolve was sent. Returns whether the reply says the service's log went
   * back (see `apply`).
   */
  applySnapshot(reply: ResolveReply, askedAt = -1): boolean {
    return this.apply(reply, this.storeKeys, askedAt);
  }

  /** Takes a reply to a resolve of `keys` alone (a delta): the other keys keep what they hold. */
  applyDelta(reply: ResolveReply, keys: readonly string[], askedAt = -1): boolean {
    return this.apply(reply, keys, askedAt);
  }

  /**
   * Replies can overtake each other, and a delta reads fewer keys than a snapshot, so each key
   * keeps whichever read of it is newest: a reply updates the keys it asked for that were last
   * read at its revision or before, and leaves the rest. A key asked for and not in `secrets`
   * (missing, removed, unreadable, expired) has no stored value. Emits `change` for the keys
   * whose effective value moved.
   *
   * A reply below `askedAt` (logWentBack): the reads held are of a history the service no
   * longer has, and would hide its values until its revisions passed them again, so the context
   * forgets them and takes the reply (returns true; the caller resyncs every key).
   */
  private apply(reply: ResolveReply, asked: readonly string[], askedAt: number): boolean {
    this.#stale = false;
    const wentBack = logWentBack(reply, askedAt);
    if (wentBack) {
      this.#stored.forEach((read, key) => this.#stored.set(key, { ...read, revision: -1 }));
      this.#revision = -1;
    }
    const before = this.declared.map((key) => this.effective(key)?.value);
    for (const key of asked) {
      if (!this.storeKeys.includes(key) || this.readAt(key) > reply.revision) continue;
      this.#stored.set(key, { value: Object.hasOwn(reply.secrets, key) ? reply.secrets[key] : undefined, revision: reply.revision });
    }
    this.#revision = Math.max(this.#revision, reply.revision);
    this.emitChanged(before);
    return wentBack;
  }

  /**
   * Takes one key's value as the service pushed it on the client's own values-mode stream (SPEC
   * §3): the value the key took at `revision`, which is a read of that key alone at that
   * revision. A read of the key at least as new is kept.
   */
  applyPushed(key: string, value: string, revision: number): void {
    if (this.readAt(key) >= revision) return;
    this.apply({ secrets: { [key]: value }, missing: [], unreadable: [], revision }, [key], -1);
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
    const fromStore = this.#stored.get(key)?.value;
    if (fromEnv !== undefined && (this.precedence === 'env-first' || fromStore === undefined)) return { value: fromEnv, source: 'env' };
    return fromStore !== undefined ? { value: fromStore, source: 'store' } : undefined;
  }
}
