/**
 * What master-key rotation costs, online (inside a running service, under resolve traffic) and
 * offline (the CLI on a stopped service's data dir). Not part of `npm run bench`'s targets: it
 * backs the choice docs/BENCHMARKS.md ("Master-key rotation") records.
 *
 *   npm run build && npx tsc -p tsconfig.bench.json && node .bench-build/bench/rotation.js [dataKeys]
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../test/support/cli';
import { PrivateNatsServer } from '../test/support/nats';
import { openLedger, seedSecrets } from './lib/ledger';
import { percentile, progress } from './lib/report';
import { apiJson, startService, waitUntilSettled } from './lib/service-process';

const key = (kid: string) => `${kid}:${randomBytes(32).toString('base64')}`;
const RESOLVERS = 8;

/** Resolve latencies (ms) of RESOLVERS concurrent callers until `until` settles. */
async function resolveLatencies(url: string, token: string, keys: string[], until: Promise<unknown>): Promise<number[]> {
  let done = false;
  void until.finally(() => (done = true));
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: RESOLVERS }, async () => {
      while (!done) {
        const started = performance.now();
        await apiJson(url, token, '/api/v1/resolve', { method: 'POST', json: { plugin: 'bench', keys } });
        latencies.push(performance.now() - started);
      }
    }),
  );
  return latencies;
}

const summary = (latencies: number[]) => ({ resolves: latencies.length, p50_ms: percentile(latencies, 50), p99_ms: percentile(latencies, 99) });

async function main(dataKeys: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-ledger-rotation-bench-'));
  const nats = await PrivateNatsServer.start();
  const [k1, k2, k3] = [key('k1'), key('k2'), key('k3')];
  const adminToken = `slt_${randomBytes(32).toString('base64url')}`;
  try {
    progress(`seeding ${dataKeys} data keys under k1`);
    const ledger = await openLedger(join(dir, 'secrets.db'), k1);
    await seedSecrets(ledger, dataKeys, Math.min(dataKeys, 5_000));
    await ledger.close();

    const env = { SECRETS_DATA_DIR: dir, SECRETS_ADMIN_TOKEN: adminToken, NATS_URL: nats.url, SECRETS_MASTER_KEYS: `${k2},${k1}` };
    const service = await startService(env);
    let online;
    try {
      await waitUntilSettled(service);
      const { token } = await apiJson<{ token: string }>(service.url, adminToken, '/api/v1/tokens', { method: 'POST', json: { name: 'bench', role: 'executor' } });
      const keys = Array.from({ length: 12 }, (_, i) => `SEED_${i}`);
      const idle = await resolveLatencies(service.url, token, keys, new Promise((resolve) => setTimeout(resolve, 5_000)));
      progress('online rotation k1 → k2 under resolve traffic');
      const started = performance.now();
      const rotation = apiJson<{ rewrapped: number }>(service.url, adminToken, '/api/v1/master-keys/rotate', { method: 'POST', json: { activeKid: 'k2' } });
      const during = await resolveLatencies(service.url, token, keys, rotation);
      const seconds = (performance.now() - started) / 1000;
      const { rewrapped } = await rotation;
      online = { rewrapped, seconds, per_s: Math.round(rewrapped / seconds), resolves_idle: summary(idle), resolves_during: summary(during) };
    } finally {
      await service.stop();
    }

    progress('offline rotation k2 → k3 (the CLI, no service)');
    const started = performance.now();
    const run = spawnSync(process.execPath, [CLI, 'rotate-master-key'], { env: { ...env, SECRETS_MASTER_KEYS: `${k3},${k2}`, PATH: process.env.PATH }, encoding: 'utf8' });
    const seconds = (performance.now() - started) / 1000;
    if (run.status !== 0) throw new Error(`offline rotation failed: ${run.stderr}`);
    const rewrapped = Number(/rewrapped (\d+)/.exec(run.stdout)?.[1]);
    const offline = { rewrapped, seconds_with_cli_start: seconds, per_s: Math.round(rewrapped / seconds) };
    process.stdout.write(`${JSON.stringify({ dataKeys, online, offline }, null, 2)}\n`);
  } finally {
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main(Number(process.argv[2] ?? 20_000)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
