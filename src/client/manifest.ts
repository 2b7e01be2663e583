import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SECRET_KEY_RULE, isValidSecretKey } from '../secrets/domain/secret-key';
import { PluginManifestError } from './errors';

/** What the SDK needs from a plugin's `fiftyone.yml`. */
export interface PluginManifest {
  name: string;
  version?: string;
  /**
   * The secret keys the plugin declares, each once: the only ones its context can resolve. A
   * key that breaks the store's key rule is kept (FiftyOne reads it from the environment) but
   * is never asked of the store; see `storeKeys`.
   */
  secrets: string[];
  /** What the loader accepted but a plugin author should hear about (printed by `run`). */
  warnings?: string[];
}

/** The names FiftyOne looks for in a plugin directory, in its order. */
const MANIFEST_NAMES = ['fiftyone.yml', 'fiftyone.yaml'];

/**
 * Reads a plugin manifest the way FiftyOne does (SPEC §5): `path` is the `fiftyone.yml` (or
 * `.yaml`) or the plugin directory holding it. FiftyOne checks only `name`, so the rest is
 * lenient: other fields are ignored, `secrets` may be absent, `null`, empty or repeat a key, and
 * keys are not refused for their spelling — the manifest's `warnings` say what was odd.
 */
export async function loadPluginManifest(path: string): Promise<PluginManifest> {
  const file = await manifestFile(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new PluginManifestError(file, `cannot read the plugin manifest (${(error as NodeJS.ErrnoException).code})`);
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new PluginManifestError(file, `not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  return parseManifest(file, document);
}

async function manifestFile(path: string): Promise<string> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PluginManifestError(path, code === 'ENOENT' ? 'plugin manifest not found' : `cannot read the plugin manifest (${code})`);
  }
  if (!isDirectory) return path;
  for (const name of MANIFEST_NAMES) {
    const candidate = join(path, name);
    if ((await stat(candidate).catch(() => undefined))?.isFile()) return candidate;
  }
  throw new PluginManifestError(path, `a plugin directory without ${MANIFEST_NAMES.join(' or ')}`);
}

export function parseManifest(path: string, document: unknown): PluginManifest {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new PluginManifestError(path, 'expected a mapping with at least `name`');
  }
  const { name, version, secrets } = document as Record<string, unknown>;
  if (typeof name !== 'string' || name.trim() === '') throw new PluginManifestError(path, '`name` must be a non-empty string');
  if (secrets !== undefined && secrets !== null && !Array.isArray(secrets)) throw new PluginManifestError(path, '`secrets` must be a list of keys');

  const declared: string[] = [];
  const warnings: string[] = [];
  (secrets ?? []).forEach((key: unknown, index: number) => {
    const where = `${path}: secrets[${index}]`;
    if (typeof key !== 'string' || key === '') {
      warnings.push(`${where} is not a key name (${JSON.stringify(key)}): ignored`);
    } else if (declared.includes(key)) {
      warnings.push(`${where} repeats ${key}: counted once`);
    } else {
      declared.push(key);
      if (!isValidSecretKey(key)) {
        warnings.push(`${where} ${JSON.stringify(key)} is not a valid secret key (${SECRET_KEY_RULE}): it can come only from the environment, never from the store`);
      }
    }
  });
  return { name, ...(version !== undefined && version !== null ? { version: String(version) } : {}), secrets: declared, warnings };
}

/** The declared keys the store may hold: those that follow its key rule (SPEC §1). */
export function storeKeys(manifest: { secrets: readonly string[] }): string[] {
  return manifest.secrets.filter(isValidSecretKey);
}
