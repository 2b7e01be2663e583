import { Command, Option } from 'commander';
import type { KeyObject } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { exportAudit } from '../audit/audit-export';
import { EXPORT_FORMATS, parseAuditExportQuery } from '../audit/audit-query';
import { verifyChain } from '../audit/chain-verifier';
import { CheckpointFileError, SignedCheckpoint, parseCheckpointLines } from '../checkpoints/checkpoint';
import { parseEd25519, spkiDer } from '../checkpoints/signing-key';
import { verifyWithCheckpoints } from '../checkpoints/verify-with-checkpoints';
import { ValidationError } from '../common/errors';
import { ConfigError } from '../config/configuration';
import { API } from '../contract/api-routes';
import { CommandFailure, EXIT } from './admin/exit-codes';
import { AuditSource, SOURCE_KINDS, SourceFlags, chooseAuditSource, unusedDatabaseFile } from './audit/audit-source';
import type { ReadOnlyLedger } from './audit/read-only-log';
import { renderVerifyResult, VerifyReport } from './audit/verify-report';
import { announceDatabase } from './existing-database';

interface CheckpointEvidence {
  checkpoints: SignedCheckpoint[];
  publicKey: KeyObject;
}

/** A verify of a long log is silent until the service has walked it all: allow it time. */
const API_VERIFY_TIMEOUT_MS = 30 * 60_000;

/** Names the source on stderr (never credentials), and a data-dir file it is not reading. */
function announce(source: AuditSource, doing: string): void {
  announceDatabase(source.description, doing);
  const unused = unusedDatabaseFile(source);
  if (unused) process.stderr.write(`secrets-ledger: not reading ${unused} (--source file reads it)\n`);
}

/** cli-progress, loaded when a long read starts (see withLedger). */
const progressReporter = async (...args: Parameters<typeof import('./progress').progressReporter>) => (await import('./progress')).progressReporter(...args);

async function withLedger<T>(source: Exclude<AuditSource, { kind: 'api' }>, work: (ledger: ReadOnlyLedger) => Promise<T>): Promise<T> {
  // Loaded here, not at start: the database drivers and TypeORM are most of the CLI's start-up.
  const { openPostgresLedger, openSqliteLedger } = await import('./audit/read-only-log');
  const ledger = source.kind === 'postgres' ? await openPostgresLedger(source.url) : openSqliteLedger(source.path);
  try {
    return await work(ledger);
  } finally {
    await ledger.close();
  }
}

/** The verifier the service runs, here on a database opened read-only. */
async function verifyLedger(ledger: ReadOnlyLedger): Promise<VerifyReport> {
  const progress = await progressReporter('verifying', (await ledger.log.head()).seq);
  const result = await verifyChain(ledger.log, progress.update);
  progress.stop();
  return { ...result };
}

/** The checkpoints file and the public key, read and checked before any source is opened. */
function readCheckpointEvidence(options: VerifyOptions): CheckpointEvidence | undefined {
  if (options.checkpoints === undefined && options.publicKey === undefined) return undefined;
  if (options.checkpoints === undefined || options.publicKey === undefined) {
    throw new CommandFailure('--checkpoints and --public-key go together: the checkpoints, and the key kept off the box that they must verify with', EXIT.usage);
  }
  const read = (path: string, option: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new CommandFailure(`${option}: cannot read ${path} (${(error as NodeJS.ErrnoException).code})`, EXIT.usage);
    }
  };
  const text = read(options.checkpoints, '--checkpoints');
  const publicKeyPem = read(options.publicKey, '--public-key');
  try {
    return { checkpoints: parseCheckpointLines(text), publicKey: parseEd25519(publicKeyPem, 'public', options.publicKey) };
  } catch (error) {
    if (error instanceof CheckpointFileError) throw new CommandFailure(`--checkpoints ${options.checkpoints}: ${error.message}`, EXIT.usage);
    if (error instanceof ConfigError) throw new CommandFailure(error.problems.join('; '), EXIT.usage);
    throw error;
  }
}

async function verifyLedgerAgainst(ledger: ReadOnlyLedger, against: CheckpointEvidence): Promise<VerifyReport> {
  const progress = await progressReporter('verifying', (await ledger.log.head()).seq);
  const result = await verifyWithCheckpoints(ledger.log, against.checkpoints, against.publicKey, progress.update);
  progress.stop();
  return { ...result };
}

async function verifyAgainstCheckpointsThroughApi(source: Extract<AuditSource, { kind: 'api' }>, against: CheckpointEvidence): Promise<VerifyReport> {
  const body = { checkpoints: against.checkpoints, publicKey: spkiDer(against.publicKey).toString('base64') };
  // Checked, not trusted, as the plain verify's answer.
  const reply: unknown = await source.api.call(API.auditVerifyAgainst, { json: body, timeoutMs: API_VERIFY_TIMEOUT_MS });
  if (typeof reply !== 'object' || reply === null || typeof (reply as { ok?: unknown }).ok !== 'boolean') {
    throw new CommandFailure(`${source.description} answered the verify with something other than a verify result`, EXIT.failed);
  }
  return reply as VerifyReport;
}

async function verifyThroughApi(source: Extract<AuditSource, { kind: 'api' }>): Promise<VerifyReport> {
  // Checked, not trusted: a proxy or another service at that address may answer anything.
  const body: unknown = await source.api.call(API.auditVerify, { timeoutMs: API_VERIFY_TIMEOUT_MS });
  if (typeof body !== 'object' || body === null || typeof (body as { ok?: unknown }).ok !== 'boolean') {
    throw new CommandFailure(`${source.description} answered the verify with something other than a verify result`, EXIT.failed);
  }
  return body as VerifyReport;
}

interface VerifyOptions extends SourceFlags {
  json?: boolean;
  checkpoints?: string;
  publicKey?: string;
}

async function verify(options: VerifyOptions): Promise<void> {
  const against = readCheckpointEvidence(options);
  const source = chooseAuditSource(options);
  announce(source, 'verifying');
  let result: VerifyReport;
  if (against === undefined) result = source.kind === 'api' ? await verifyThroughApi(source) : await withLedger(source, verifyLedger);
  else result = source.kind === 'api' ? await verifyAgainstCheckpointsThroughApi(source, against) : await withLedger(source, (ledger) => verifyLedgerAgainst(ledger, against));
  process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : renderVerifyResult(result));
  if (!result.ok) process.exitCode = 1;
}

interface ExportOptions extends SourceFlags {
  out?: string;
  format: string;
  type?: string;
  key?: string;
  actor?: string;
  from?: string;
  to?: string;
}

/** The same rules as the HTTP query string; problems are named as the options the user typed. */
function parseExportOptions(query: Omit<ExportOptions, keyof SourceFlags | 'out'>) {
  try {
    return parseAuditExportQuery(Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)));
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new Error(`invalid options: ${(error.errors ?? []).map((e) => `--${e.field} ${e.message}`).join('; ')}`);
  }
}

async function exportTrail({ db, source: sourceFlag, out, ...query }: ExportOptions): Promise<void> {
  const { filter, format } = parseExportOptions(query);
  const source = chooseAuditSource({ db, source: sourceFlag });
  announce(source, 'exporting the trail of');
  const write = (stream: Readable) => (out ? pipeline(stream, createWriteStream(out)) : pipeline(stream, process.stdout, { end: false }));
  if (source.kind === 'api') {
    // The service's own export, as it streams in: the CLI holds one chunk at a time.
    await write(await source.api.stream(API.auditExport, { format, ...filter }));
    return;
  }
  await withLedger(source, async ({ log }) => {
    const progress = await progressReporter('exporting', (await log.head()).seq);
    await write(exportAudit(log, filter, format, progress.update));
    progress.stop();
  });
}

const sourceOption = () =>
  new Option('--source <source>', 'where the trail is read (default: the one setting that names one; see below)').choices(SOURCE_KINDS);

const SOURCES_HELP = `
Sources (which one is used is named on stderr):
  postgres  the PostgreSQL database of DATABASE_URL, read-only
  api       the running service (SECRETS_URL) with an auditor or admin token (SECRETS_TOKEN)
  file      a SQLite file: --db, else secrets.db in SECRETS_DATA_DIR (default ./data), read-only
Without --source, exactly one of DATABASE_URL, SECRETS_URL and --db / SECRETS_DATA_DIR may be set
(none: ./data/secrets.db); two at once is refused (exit 2). A secrets.db left in the data dir is
not read while DATABASE_URL is set.
`;

/** `secrets-ledger audit verify | export` (SPEC §6), on PostgreSQL, through the API, or on a file. */
export function auditCommand(): Command {
  const audit = new Command('audit').description('verify or export the audit trail, from PostgreSQL, the service, or a database file');
  audit
    .command('verify')
    .description('recompute the hash chain; exit 1 and name the first broken seq if it does not hold')
    .addOption(sourceOption())
    .option('--db <path>', 'database file (SQLite)')
    .option('--json', 'print the verify result as JSON')
    .option('--checkpoints <file>', 'also hold the log against these signed checkpoints (the sink\'s file): forged, rewritten, truncated')
    .option('--public-key <file>', 'the checkpoint signing key (PEM) to check them with, kept off the box')
    .addHelpText('after', SOURCES_HELP)
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
    .addOption(sourceOption())
    .option('--db <path>', 'database file (SQLite)')
    .option('--out <file>', 'write here instead of stdout')
    .addHelpText('after', SOURCES_HELP)
    .action(exportTrail);
  return audit;
}
