import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConflictError, DomainError, ErrorCode } from '../common/errors';
import { ConfigError, MasterKeySpec, parseMasterKeys } from '../config/configuration';
import { writeFileAtomically } from './atomic-file';
import { devKeyFile } from './dev-key-file';
import { dataKeyAad, open, seal } from './envelope';

export const DEV_KEY_FILE = 'master-keys.dev';

/**
 * This process may not wrap new values with its active key now: another live instance lacks it
 * (src/master-keys/key-holder-heartbeat.ts). Temporary (503): it ends when that instance holds it.
 */
export class MasterKeyNotSharedError extends DomainError {
  constructor(reason: string) {
    super(ErrorCode.MasterKeyNotShared, `No new value can be stored through this instance now: ${reason}. Nothing was stored; retry later or through another instance.`);
  }
}

/**
 * The master keys that wrap data keys. The first key is active: new data keys are wrapped with
 * it. Older keys stay available to unwrap until a rotation has rewrapped everything they cover.
 */
export class MasterKeyring {
  private readonly keys: Map<string, Buffer>;
  private active: string;
  /** Why wrapping is refused now, if it is (set by whoever knows the other instances). */
  private wrapRefusal: () => string | undefined = () => undefined;

  constructor(
    specs: MasterKeySpec[],
    /** Set when the keys come from the development key file (then the service may add one). */
    readonly devKeyFile?: string,
  ) {
    if (specs.length === 0) throw new Error('a master keyring needs at least one key');
    this.keys = new Map(specs.map((s) => [s.kid, s.key]));
    this.active = specs[0].kid;
  }

  get activeKid(): string {
    return this.active;
  }

  /**
   * Makes a new key the active one, from now on for every value wrapped by this process. The
   * caller has made the key durable first (the key file): a value is never wrapped under a key
   * that exists only in memory.
   */
  activate(spec: MasterKeySpec): void {
    if (this.keys.has(spec.kid)) throw new Error(`master key "${spec.kid}" is already in the keyring`);
    this.keys.set(spec.kid, spec.key);
    this.active = spec.kid;
  }

  kids(): string[] {
    return [...this.keys.keys()];
  }

  /**
   * Every wrap first asks `refusal`, and throws MasterKeyNotSharedError when it names a reason:
   * a value must never be wrapped under a key another live instance could not unwrap.
   */
  guardWrapping(refusal: () => string | undefined): void {
    this.wrapRefusal = refusal;
  }

  wrap(dataKey: Buffer, eventId: string): { kid: string; wrapped: Buffer } {
    const refused = this.wrapRefusal();
    if (refused !== undefined) throw new MasterKeyNotSharedError(refused);
    const kid = this.activeKid;
    return { kid, wrapped: seal(this.key(kid), dataKey, dataKeyAad(eventId, kid)) };
  }

  unwrap(kid: string, wrapped: Buffer, eventId: string): Buffer {
    return open(this.key(kid), wrapped, dataKeyAad(eventId, kid));
  }

  /** The same data key, wrapped by the active master key instead of `kid` (rotation). */
  rewrap(kid: string, wrapped: Buffer, eventId: string): { kid: string; wrapped: Buffer } {
    const dataKey = this.unwrap(kid, wrapped, eventId);
    try {
      return this.wrap(dataKey, eventId);
    } finally {
      dataKey.fill(0);
    }
  }

  private key(kid: string): Buffer {
    const key = this.keys.get(kid);
    if (!key) throw new ConflictError(`master key "${kid}" is not configured (SECRETS_MASTER_KEYS)`);
    return key;
  }
}

/**
 * Keys from SECRETS_MASTER_KEYS, or — outside production only, which config validation already
 * enforces — from a key file in the data dir, created with mode 0600 on a first start only:
 * `storeHasValues` says whether the database already holds wrapped data keys, and then a missing
 * key file is an error (a new key could open none of them; it would only hide the loss).
 */
export function loadKeyring(configured: MasterKeySpec[], dataDir: string, storeHasValues = false): MasterKeyring {
  if (configured.length > 0) return new MasterKeyring(configured);
  const file = devKeyFile(
    dataDir,
    DEV_KEY_FILE,
    () => newDevKey('dev-1').line,
    storeHasValues ? 'the database holds values wrapped by its keys: restore the file, or set SECRETS_MASTER_KEYS to the keys' : undefined,
  );
  return new MasterKeyring(readDevKeys(file), file);
}

function readDevKeys(file: string): MasterKeySpec[] {
  const problems: string[] = [];
  const specs = parseMasterKeys(readFileSync(file, 'utf8').trim().split('\n').join(','), problems);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${file}: ${p}`));
  return specs;
}

function newDevKey(kid: string): { spec: MasterKeySpec; line: string } {
  const key = randomBytes(32);
  return { spec: { kid, key }, line: `${kid}:${key.toString('base64')}\n` };
}

/**
 * Rotation without SECRETS_MASTER_KEYS (development only): a new key goes first in the key
 * file, so it becomes the active one; the older keys stay below it until they are retired. The
 * file is replaced atomically and fsynced (file and directory) before the key is used, so a
 * crash leaves the old file or the new one, never a half-written or empty one.
 */
export function prependDevKey(file: string): MasterKeySpec {
  const kids = readDevKeys(file).map((spec) => spec.kid);
  const highest = Math.max(0, ...kids.map((kid) => Number(/^dev-(\d+)$/.exec(kid)?.[1] ?? 0)));
  const { spec, line } = newDevKey(`dev-${highest + 1}`);
  writeFileAtomically(file, line + readFileSync(file, 'utf8'));
  return spec;
}
