import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The maintenance commands (everything but `serve`) work on a database that exists: they never
 * create a data dir or a database (SPEC §6), so a mistyped SECRETS_DATA_DIR, or a relative
 * `./data` run from another directory, is an error naming the absolute path instead of a new,
 * empty store. The path used is named on stderr, keeping stdout for results.
 */
const announced = new Set<string>();

export function existingDatabase(path: string): string {
  const absolute = resolve(path);
  if (!existsSync(absolute)) {
    throw new Error(
      `no database at ${absolute}: set SECRETS_DATA_DIR (or --db) to the data dir of the service; only \`secrets-ledger serve\` creates one`,
    );
  }
  if (!announced.has(absolute)) process.stderr.write(`secrets-ledger: using the database ${absolute}\n`);
  announced.add(absolute);
  return absolute;
}
