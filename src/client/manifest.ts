import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { SECRET_KEY_RULE, isValidSecretKey } from '../secrets/domain/secret-key';
import { PluginManifestError } from './errors';

/** What the SDK needs from a plugin's `fiftyone.yml`. */
export interface PluginManifest {
  name: string;
  version?: string;
  /** The secret keys the plugin declares: the only ones its context can resolve. */
  secrets: string[];
}

/** Reads and checks a `fiftyone.yml`; other fields of the file (operators, panels, …) are ignored. */
export async function loadPluginManifest(path: string): Promise<PluginManifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PluginManifestError(path, code === 'ENOENT' ? 'plugin manifest not found' : `cannot read the plugin manifest (${code})`);
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new PluginManifestError(path, `not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  return parseManifest(path, document);
}

export function parseManifest(path: string, document: unknown): PluginManifest {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new PluginManifestError(path, 'expected a mapping with at least `name`');
  }
  const { name, version, secrets = [] } = document as Record<string, unknown>;
  if (typeof name !== 'string' || name.trim() === '') throw new PluginManifestError(path, '`name` must be a non-empty string');
  if (!Array.isArray(secrets)) throw new PluginManifestError(path, '`secrets` must be a list of keys');
  secrets.forEach((key, index) => {
    if (!isValidSecretKey(key)) throw new PluginManifestError(path, `secrets[${index}] ${JSON.stringify(key)}: ${SECRET_KEY_RULE}`);
  });
  if (new Set(secrets).size !== secrets.length) throw new PluginManifestError(path, '`secrets` must not repeat a key');
  return { name, ...(version !== undefined && version !== null ? { version: String(version) } : {}), secrets: secrets as string[] };
}
