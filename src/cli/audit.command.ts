import Database from 'better-sqlite3';
import { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { exportAudit } from '../audit/audit-export';
import { AuditLog } from '../audit/audit-log';
import { EXPORT_FORMATS, parseAuditExportQuery } from '../audit/audit-query';
import { verifyChain } from '../audit/chain-verifier';
import { ValidationError } from '../common/errors';
import { SqliteSession } from '../storage/sqlite/sqlite-session';
import { existingDatabase } from './existing-database';
import { progressReporter } from './progress';

/** The service's own database unless --db names another file (e.g. an offline copy). */
function defaultDatabase(): string {
  return resolve(process.env.SECRETS_DATA_DIR || './data', 'secrets.db');
}

/** Read-only: a reviewer's check can never change the copy it checks. No keys, no Nest app. */
function openLog(path: string): { log: AuditLog; close: () => void } {
  const absolute = existingDatabase(path);
  let db: Database.Database;
  try {
    db = new Database(absolute, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new Error(`cannot open ${absolute}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { log: new AuditLog(new SqliteSession(db)), close: () => db.close() };
}

async function verify(options: { db: string }): Promise<void> {
  const { log, close } = openLog(options.db);
  try {
    const progress = progressReporter('verifying', (await log.head()).seq);
    const result = await verifyChain(log, progress.update);
    progress.stop();
    if (result.ok) {
      process.stdout.write(`ok: ${result.checked} events checked; head seq ${result.head.seq} hash ${result.head.hash}\n`);
    } else {
      if (result.brokenAt !== undefined) {
        process.stdout.write(`BROKEN at seq ${result.brokenAt}: ${result.reason}\n(${result.checked} events read; head seq ${result.head.seq})\n`);
      }
      for (const d of result.disagreements) process.stdout.write(`DISAGREES: ${d.table} ${d.key ?? d.id} ${d.field}: ${d.reason}\n`);
      process.exitCode = 1;
    }
  } finally {
    close();
  }
}

interface ExportOptions {
  db: string;
  out?: string;
  format: string;
  type?: string;
  key?: string;
  actor?: string;
  from?: string;
  to?: string;
}

/** The same rules as the HTTP query string; problems are named as the options the user typed. */
function parseExportOptions(query: Omit<ExportOptions, 'db' | 'out'>) {
  try {
    return parseAuditExportQuery(Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)));
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new Error(`invalid options: ${(error.errors ?? []).map((e) => `--${e.field} ${e.message}`).join('; ')}`);
  }
}

async function exportTrail({ db, out, ...query }: ExportOptions): Promise<void> {
  const parsed = parseExportOptions(query);
  const { log, close } = openLog(db);
  try {
    const progress = progressReporter('exporting', (await log.head()).seq);
    const stream = exportAudit(log, parsed.filter, parsed.format, progress.update);
    if (out) await pipeline(stream, createWriteStream(out));
    else await pipeline(stream, process.stdout, { end: false });
    progress.stop();
  } finally {
    close();
  }
}

/** `secrets-ledger audit verify | export` (SPEC §6), on a database file. */
export function auditCommand(): Command {
  const audit = new Command('audit').description('verify or export the audit trail of a database file (opened read-only)');
  audit
    .command('verify')
    .description('recompute the hash chain; exit 1 and name the first broken seq if it does not hold')
    .option('--db <path>', 'database file', defaultDatabase())
    .action(verify);
  audit
    .command('export')
    .description('write the trail (or the events matching the filters) as NDJSON or CSV')
    .requiredOption('--format <format>', EXPORT_FORMATS.join(' | '))
    .option('--type <type>', 'event type, e.g. SecretAdded')
    .option('--key <key>', "events of this secret's own stream")
    .option('--actor <id>', 'actor id (tok_…, system)')
    .option('--from <iso>', 'ISO 8601 timestamp, inclusive')
    .option('--to <iso>', 'ISO 8601 timestamp, exclusive')
    .option('--db <path>', 'database file', defaultDatabase())
    .option('--out <file>', 'write here instead of stdout')
    .action(exportTrail);
  return audit;
}
