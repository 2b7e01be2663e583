import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Client } from 'pg';
import { openPostgres } from '../../src/storage/postgres/open-postgres';
import { CLI, residentBytes, startServe, stop } from '../support/cli';
import { FreshDatabase, freshDatabase } from '../support/postgres';
import { ADMIN_TOKEN, tempDataDir } from '../support/test-app';
import { signingKeyFile } from '../support/signing-key';

const EVENTS = 100_000;
/** About 1 KB an event: the NDJSON is ~128 MB, twice the heap the CLI is given below. */
const PADDING = 'x'.repeat(1000);
/**
 * The CLI runs with its heap capped well below the export's size, so holding the export (or a
 * large part of it) ends in an out-of-memory crash rather than a slow pass. Resident memory is
 * checked too (buffers live outside the heap); V8 lets garbage pile up to near the cap before
 * collecting, so the bound is the cap plus headroom, still below the export's size.
 */
const HEAP_CAP_MB = 64;
const MAX_RSS_GROWTH = 100 * 1024 * 1024;

/**
 * `audit export` from PostgreSQL and through the API, piped to a reader that only counts: the
 * CLI, its heap capped at 64 MB, passes ~128 MB through with its resident memory (sampled from
 * /proc) bounded. The rows
 * are written with SQL (export does not check the chain), which seeds 100k events in seconds.
 */
describe('audit export from PostgreSQL and through the API streams with flat memory', () => {
  const work = tempDataDir('secrets-ledger-export-memory-');
  let database: FreshDatabase;
  let service: { child: ChildProcess; url: string };
  let auditor: string;

  beforeAll(async () => {
    database = await freshDatabase('export-sources-memory');
    const opened = await openPostgres(database.url);
    await opened.close();
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO events (seq, id, stream, version, type, data, actor, at, prev_hash, hash)
         SELECT n, 'evt_' || n, 'bulk', n, 'AccessDenied',
                json_build_object('action', 'GET /api/v1/tokens#' || n, 'pad', $1::text)::text,
                '{"id":"tok_bulk","name":"bulk","role":"auditor"}', to_char(timestamp '2026-01-01' + n * interval '1 ms', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                md5(n::text), md5((n + 1)::text)
         FROM generate_series(1, $2::int) AS n`,
        [PADDING, EVENTS],
      );
    } finally {
      await client.end();
    }
    service = await startServe({
      DATABASE_URL: database.url,
      SECRETS_MASTER_KEYS: `mem-1:${randomBytes(32).toString('base64')}`,
      SECRETS_SIGNING_KEY_FILE: signingKeyFile(work.dir),
      SECRETS_ADMIN_TOKEN: ADMIN_TOKEN,
      SECRETS_DATA_DIR: join(work.dir, 'service'),
      NATS_URL: 'nats://127.0.0.1:1',
    });
    const issued = await fetch(`${service.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'memory-auditor', role: 'auditor' }),
    });
    auditor = ((await issued.json()) as { token: string }).token;
  }, 180_000);

  afterAll(async () => {
    if (service) await stop(service.child);
    await database?.drop();
    work.cleanup();
  });

  /** Runs the export, counting lines and bytes only; RSS from the first chunk on. */
  function measuredExport(env: NodeJS.ProcessEnv): Promise<{ status: number | null; lines: number; bytes: number; growth: number; stderr: string }> {
    const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_CAP_MB}`, CLI, 'audit', 'export', '--format', 'ndjson'], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let bytes = 0;
    let baseline: number | undefined;
    let peak = 0;
    let stderr = '';
    const sample = () => {
      try {
        peak = Math.max(peak, residentBytes(child.pid!));
      } catch {
        // The process has just ended.
      }
    };
    const sampler = setInterval(sample, 20);
    child.stdout.on('data', (chunk: Buffer) => {
      if (baseline === undefined) baseline = residentBytes(child.pid!);
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines += 1;
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    return new Promise((resolve) =>
      child.once('close', (status) => {
        clearInterval(sampler);
        resolve({ status, lines, bytes, growth: peak - (baseline ?? peak), stderr });
      }),
    );
  }

  it.each([
    ['postgres', () => ({ DATABASE_URL: database.url })],
    ['api', () => ({ SECRETS_URL: service.url, SECRETS_TOKEN: auditor })],
  ])(
    'source %s: every event once, memory flat',
    async (source, env) => {
      const result = await measuredExport(env());
      expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: expect.stringContaining(source === 'api' ? 'the service' : 'postgres://') });
      // Control: the rows seeded plus the admin token's issue and the auditor's.
      expect(result.lines).toBeGreaterThanOrEqual(EVENTS);
      expect(result.bytes).toBeGreaterThan(EVENTS * PADDING.length);
      console.log(`audit export --source ${source}: ${(result.bytes / 1e6).toFixed(0)} MB, CLI RSS growth ${(result.growth / 1048576).toFixed(1)} MiB`);
      expect(result.growth).toBeLessThan(MAX_RSS_GROWTH);
    },
    180_000,
  );
});
