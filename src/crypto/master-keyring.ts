import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, MasterKeySpec, parseMasterKeys } from '../config/configuration';
import { dataKeyAad, open, seal } from './envelope';

export const DEV_KEY_FILE = 'master-keys.dev';

/**
 * The master keys that wrap data keys. The first key is active: new data keys are wrapped with
 * it. Older keys stay available to unwrap until a rotation has rewrapped everything they cover.
 */
export class MasterKeyring {
  private readonly keys: Map<string, Buffer>;

  constructor(specs: MasterKeySpec[]) {
    if (specs.length === 0) throw new Error('a master keyring needs at least one key');
    this.keys = new Map(specs.map((s) => [s.kid, s.key]));
    this.activeKid = specs[0].kid;
  }

  readonly activeKid: string;

  kids(): string[] {
    return [...this.keys.keys()];
  }

  wrap(dataKey: Buffer, eventId: string): { kid: string; wrapped: Buffer } {
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
    if (!key) throw new Error(`master key "${kid}" is not configured (SECRETS_MASTER_KEYS)`);
    return key;
  }
}

export interface KeyringSource {
  keyring: MasterKeyring;
  /** Set when the keys came from a generated development key file: the operator must be warned. */
  generatedFile?: string;
}

/**
 * Keys from SECRETS_MASTER_KEYS, or — outside production only, which config validation already
 * enforces — from a key file in the data dir, created on first use with mode 0600.
 */
export function loadKeyring(configured: MasterKeySpec[], dataDir: string): KeyringSource {
  if (configured.length > 0) return { keyring: new MasterKeyring(configured) };
  const file = join(dataDir, DEV_KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, newDevKeyLine('dev-1'), { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  const problems: string[] = [];
  const specs = parseMasterKeys(readFileSync(file, 'utf8').trim().split('\n').join(','), problems);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${file}: ${p}`));
  return { keyring: new MasterKeyring(specs), generatedFile: file };
}

function newDevKeyLine(kid: string): string {
  return `${kid}:${randomBytes(32).toString('base64')}\n`;
}

/**
 * Rotation without SECRETS_MASTER_KEYS (development only): a new key goes first in the key
 * file, so it becomes the active one; the older keys stay below it until they are retired.
 * Written to a temporary file and renamed, so a crash never leaves a half-written key file.
 */
export function prependDevKey(dataDir: string): { file: string; kid: string } {
  const { keyring, generatedFile } = loadKeyring([], dataDir);
  const file = generatedFile!;
  const highest = Math.max(0, ...keyring.kids().map((kid) => Number(/^dev-(\d+)$/.exec(kid)?.[1] ?? 0)));
  const kid = `dev-${highest + 1}`;
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, newDevKeyLine(kid) + readFileSync(file, 'utf8'), { mode: 0o600, flag: 'wx' });
  renameSync(temporary, file);
  return { file, kid };
}
