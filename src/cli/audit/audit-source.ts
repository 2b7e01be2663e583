import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describeDatabaseUrl, parseDatabaseUrl } from '../../config/configuration';
import { AdminApi, adminApiFromEnvironment } from '../admin/admin-api';
import { CommandFailure, EXIT } from '../admin/exit-codes';

/**
 * Where `audit verify | export` read the trail (SPEC §6): the PostgreSQL database of
 * DATABASE_URL, the running service's API (SECRETS_URL and an auditor's SECRETS_TOKEN), or a
 * SQLite file (`--db`, else secrets.db in SECRETS_DATA_DIR).
 */
export type AuditSource =
  | { kind: 'postgres'; url: string; description: string }
  | { kind: 'api'; api: AdminApi; description: string }
  | { kind: 'file'; path: string; description: string };

export const SOURCE_KINDS = ['postgres', 'api', 'file'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export interface SourceFlags {
  source?: string;
  db?: string;
}

/** The file the service itself would use when DATABASE_URL is unset. */
function dataDirDatabase(env: NodeJS.ProcessEnv): string {
  return resolve(env.SECRETS_DATA_DIR || './data', 'secrets.db');
}

/**
 * Which settings point at a trail. The data dir's file counts only where it is the service's
 * database (DATABASE_URL unset): with DATABASE_URL set, a secrets.db there is a leftover.
 */
function candidates(flags: SourceFlags, env: NodeJS.ProcessEnv): Array<[SourceKind, string]> {
  const found: Array<[SourceKind, string]> = [];
  if (env.DATABASE_URL) found.push(['postgres', 'DATABASE_URL']);
  if (env.SECRETS_URL) found.push(['api', 'SECRETS_URL']);
  if (flags.db !== undefined) found.push(['file', '--db']);
  else if (env.SECRETS_DATA_DIR && !env.DATABASE_URL) found.push(['file', 'SECRETS_DATA_DIR']);
  return found;
}

/**
 * The source the settings name, never a guess: `--source` decides when given; otherwise exactly
 * one of DATABASE_URL, SECRETS_URL and `--db`/SECRETS_DATA_DIR may be set (none: ./data, as the
 * service would use). Two at once is a usage error naming them, since checking the wrong ledger
 * and printing "ok" is worse than not checking.
 */
export function chooseAuditSource(flags: SourceFlags, env: NodeJS.ProcessEnv = process.env): AuditSource {
  const given = candidates(flags, env);
  let kind: SourceKind;
  if (flags.source !== undefined) {
    if (!(SOURCE_KINDS as readonly string[]).includes(flags.source)) {
      throw new CommandFailure(`--source must be one of ${SOURCE_KINDS.join(', ')}`, EXIT.usage);
    }
    kind = flags.source as SourceKind;
    if (flags.db !== undefined && kind !== 'file') throw new CommandFailure(`--db names a file, and --source is ${kind}: give one or the other`, EXIT.usage);
  } else if (given.length > 1) {
    throw new CommandFailure(
      `${given.map(([, setting]) => setting).join(' and ')} are ${given.length === 2 ? 'both' : 'all'} set, and each names a trail: ` +
        `choose one with --source ${given.map(([k]) => k).join('|')} (or unset the others)`,
      EXIT.usage,
    );
  } else {
    kind = given[0]?.[0] ?? 'file';
  }
  return openSource(kind, flags, env);
}

function openSource(kind: SourceKind, flags: SourceFlags, env: NodeJS.ProcessEnv): AuditSource {
  switch (kind) {
    case 'postgres': {
      const problems: string[] = [];
      const url = parseDatabaseUrl(env.DATABASE_URL, problems);
      if (problems.length > 0) throw new CommandFailure(problems.join('; '), EXIT.usage);
      if (url === undefined) throw new CommandFailure('--source postgres reads DATABASE_URL, and it is unset', EXIT.usage);
      return { kind, url, description: describeDatabaseUrl(url) };
    }
    case 'api': {
      const api = adminApiFromEnvironment(env, 'an auditor (or admin) token');
      return { kind, api, description: `${api.url} (the service's API)` };
    }
    case 'file': {
      const path = resolve(flags.db ?? dataDirDatabase(env));
      return { kind, path, description: path };
    }
  }
}

/**
 * What the chosen source leaves out that someone might expect checked: the data dir's
 * secrets.db when another source was chosen (a leftover from before DATABASE_URL, say).
 */
export function unusedDatabaseFile(source: AuditSource, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (source.kind === 'file') return undefined;
  const file = dataDirDatabase(env);
  return existsSync(file) ? file : undefined;
}
