import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/configuration';
import { writeFileAtomically } from './atomic-file';

/**
 * A key the service generates for itself outside production, when the variable that names the
 * real one is unset (config validation refuses that in production and on PostgreSQL): a file in
 * the data dir, written atomically with mode 0600 on a first start and kept mode 0600 after.
 * The master keys and the checkpoint signing key both come from one of these.
 *
 * `refuseIfMissing` names what a new key could not stand in for (values wrapped by the old
 * one): then a missing file is an error rather than a silent fresh key.
 */
export function devKeyFile(dataDir: string, name: string, generate: () => string, refuseIfMissing?: string): string {
  const file = join(dataDir, name);
  if (!existsSync(file)) {
    if (refuseIfMissing !== undefined) throw new ConfigError([`${file} is missing, but ${refuseIfMissing}`]);
    mkdirSync(dataDir, { recursive: true });
    writeFileAtomically(file, generate());
  }
  chmodSync(file, 0o600);
  return file;
}

/**
 * The warning a development key file gets at start, on stderr like the admin token's: one JSON
 * line among the route mappings is a warning nobody reads.
 */
export function warnOfDevKeyFile(file: string, what: string[], remedy: string[]): void {
  process.stderr.write(
    ['', '================================================================', ...what.map((l) => ` ${l}`), '', `   ${file}   (mode 0600)`, '', ...remedy.map((l) => ` ${l}`), '================================================================', ''].join(
      '\n',
    ),
  );
}
