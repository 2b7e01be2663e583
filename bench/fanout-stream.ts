/**
 * `npm run build && npx tsc -p tsconfig.bench.json && node .bench-build/bench/fanout-stream.js [--quick] [--executors 10,100]`:
 * the fanout figures over the change stream alone (the `stream` transport of
 * scenarios/fanout.ts: SDK executors without NATS, so on their values-mode streams), on one
 * fresh service. Progress on stderr; the JSON result, with the load average, on stdout.
 */
import { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { newMasterKeys } from './lib/ledger';
import { progress } from './lib/report';
import { startService } from './lib/service-process';
import { measureFanout, prepareFanout } from './scenarios/fanout';
import { STREAM_BENCH_ENV } from './scenarios/stream-propagation';

async function main(): Promise<void> {
  const options = new Command()
    .option('--quick', 'fewer changes per size')
    .option('--executors <list>', 'executor counts, comma-separated', '10,100')
    .parse(process.argv)
    .opts<{ quick?: boolean; executors: string }>();
  const dir = mkdtempSync(join(tmpdir(), 'secrets-ledger-bench-'));
  const adminToken = `slt_${randomBytes(32).toString('base64url')}`;
  // No NATS: the executors follow the service's own stream.
  const service = await startService({ SECRETS_DATA_DIR: dir, SECRETS_MASTER_KEYS: newMasterKeys(), SECRETS_ADMIN_TOKEN: adminToken, NATS_URL: 'nats://127.0.0.1:1', ...STREAM_BENCH_ENV });
  try {
    await prepareFanout(service, adminToken);
    const result: Record<string, unknown> = { load_average_before: loadavg().map((load) => Number(load.toFixed(2))) };
    for (const executors of options.executors.split(',').map(Number)) {
      result[`n${executors}`] = await measureFanout(service, 'nats://127.0.0.1:1', adminToken, 'stream', executors, options.quick ? 10 : 20);
    }
    result.load_average_after = loadavg().map((load) => Number(load.toFixed(2)));
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  progress('done');
}

void main();
