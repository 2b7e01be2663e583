import { parse } from 'dotenv';
import { readFile } from 'node:fs/promises';
import { API } from '../../contract/api-routes';
import { isValidSecretKey } from '../../secrets/domain/secret-key';
import { AdminApi } from './admin-api';
import { CommandFailure, EXIT } from './exit-codes';
import { OutputOptions, printJson, printTable } from './render';
import { confirm } from './value-input';

interface Change {
  key: string;
  /** `keep`: the key exists and --overwrite was not given, so it is left as it is. */
  action: 'add' | 'keep' | 'overwrite';
  /** The version the key is at (keep, overwrite): a concurrent change makes an overwrite 412. */
  fromVersion?: number;
  /** The version written, once applied. */
  version?: number;
}

/**
 * `secrets import FILE.env [--overwrite] [--yes]` (SPEC §6): every key of a dotenv file
 * (comments, quotes, `export`, multi-line values: the `dotenv` parser's syntax) that the store
 * lacks is added; a key it has is kept, or with --overwrite given a new version. Admins cannot
 * read values back, so "the same value" is never guessed: importing a file twice changes nothing
 * (no new versions, no restarted plugins) unless asked to. The plan is shown first; it is applied
 * with --yes, or after a "yes" on a terminal, and never without a terminal and without --yes. An
 * invalid key or empty value refuses the whole file.
 */
export async function importDotenv(api: AdminApi, file: string, options: OutputOptions & { yes?: boolean; overwrite?: boolean; expiresAt?: string }): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CommandFailure(`cannot read ${file} (${(error as NodeJS.ErrnoException).code})`, EXIT.usage);
  }
  const values = parse(text);
  const problems = Object.entries(values).flatMap(([key, value]) => [
    ...(isValidSecretKey(key) ? [] : [`${key}: not a valid secret key (upper snake case, at most 128 characters)`]),
    ...(value === '' ? [`${key}: empty value`] : []),
  ]);
  if (problems.length > 0) throw new CommandFailure(`${file}: nothing imported\n  ${problems.join('\n  ')}`, EXIT.invalid);

  const current = new Map((await api.all(API.listSecrets)).map((meta) => [meta.key, meta.version]));
  const changes: Change[] = Object.keys(values).map((key) =>
    current.has(key) ? { key, action: options.overwrite ? 'overwrite' : 'keep', fromVersion: current.get(key) } : { key, action: 'add' },
  );
  const writes = changes.filter((change) => change.action !== 'keep');

  const asked = !options.yes && process.stdin.isTTY === true && writes.length > 0;
  if (asked && !options.json) show(changes);
  const apply = writes.length > 0 && (options.yes === true || (asked && (await confirm(`Apply ${writes.length} change(s)? [y/N] `))));
  if (apply) {
    for (const change of writes) {
      try {
        change.version = await write(api, change, values[change.key], options.expiresAt);
      } catch (error) {
        if (error instanceof CommandFailure) {
          const done = writes.filter((c) => c.version !== undefined).map((c) => c.key);
          throw new CommandFailure(`${change.key}: ${error.message}\n(applied before it: ${done.join(', ') || 'none'}; not applied: the rest)`, error.exitCode);
        }
        throw error;
      }
    }
  }
  if (options.json) printJson({ applied: apply, changes });
  else {
    if (!asked) show(changes);
    process.stderr.write(`${outcome(writes.length, apply)}${keptNote(changes)}\n`);
  }
}

function outcome(writes: number, applied: boolean): string {
  if (writes === 0) return 'nothing to change';
  return applied ? `applied ${writes} change(s)` : 'nothing changed (run with --yes to apply)';
}

function keptNote(changes: Change[]): string {
  const kept = changes.filter((c) => c.action === 'keep').length;
  return kept > 0 ? `; ${kept} existing key(s) kept as they are (--overwrite replaces them)` : '';
}

function show(changes: Change[]): void {
  printTable(['ACTION', 'KEY', 'VERSION'], changes.map((c) => [c.action, c.key, describeVersion(c)]), '(the file declares no keys)');
}

function describeVersion(change: Change): string {
  if (change.action === 'add') return change.version !== undefined ? String(change.version) : 'new';
  if (change.action === 'keep') return String(change.fromVersion);
  return `${change.fromVersion} -> ${change.version ?? change.fromVersion! + 1}`;
}

/** One key's add or overwrite; `expiresAt`, when given, goes with each written value. */
async function write(api: AdminApi, change: Change, value: string, expiresAt: string | undefined): Promise<number> {
  const expiry = expiresAt !== undefined ? { expiresAt } : {};
  const meta =
    change.action === 'add'
      ? await api.call(API.addSecret, { json: { key: change.key, value, ...expiry } })
      : await api.call(API.changeSecret, { params: { key: change.key }, json: { value, ...expiry }, ifMatch: change.fromVersion });
  return meta.version;
}
