import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The maintenance commands (everything but `serve`) work on a database that exists: they never
 * create a data dir or a database (SPEC §6), so a mistyped SECRETS_DATA_DIR, or a relative
 * `./data` run from another directory, is an error naming the absolute path instead of a new,
 * empty store. The database used is named on stderr, keeping stdout for results.
 */
const announced = new Set<string>();

/** Names the database a command works on, once per process, on stderr. */
export function announceDatabase(description: string, doing = 'using the database'): void {
  if (announced.has(description)) return;
  announced.add(description);
  process.stderr.write(`secrets-ledger: ${doing} ${description}\n`);
}

/** The absolute path of an existing database file; an error naming that path otherwise. */
export function requireDatabaseFile(path: string): string {
  const absolute = resolve(path);
  if (!existsSync(absolute)) {
    throw new Error(
      `no database at ${absolute}: set SECRETS_DATA_DIR (or --db) to the data dir of the service; only \`secrets-ledger serve\` creates one`,
    );
  }
  return absolute;
}

export function existingDatabase(path: string): string {
  const absolute = requireDatabaseFile(path);
  announceDatabase(absolute);
  return absolute;
}
