/**
 * `node .bench-build/bench/compare.js <other checkout> [seconds per round] [rounds]`: HTTP
 * resolves and durable writes of this checkout's service and another's (built: its
 * dist/cli.js), side by side in one run, rounds alternating, so that the load other work puts on
 * the machine falls on both alike. Prints the medians and their ratio (this / other).
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { newMasterKeys } from './lib/ledger';
import { median, progress, round } from './lib/report';
import { ServiceProcess, startService } from './lib/service-process';
import { measureHttpResolves, prepareResolves } from './scenarios/resolves';
import { committedSqliteWrites, measureWrites, prepareWrites } from './scenarios/writes';
import { PrivateNatsServer } from '../test/support/nats';

async function main(): Promise<void> {
  const [other, seconds = '3', rounds = '3'] = process.argv.slice(2);
  if (!other) throw new Error('usage: compare.js <other checkout> [seconds] [rounds]');
  const nats = await PrivateNatsServer.start();
  const dir = mkdtempSync(join(tmpdir(), 'secrets-ledger-compare-'));
  const adminToken = `slt_${randomBytes(32).toString('base64url')}`;
  const started: ServiceProcess[] = [];
  try {
    const sides = [
      { name: 'this', cli: undefined as string | undefined },
      { name: 'other', cli: join(resolve(other), 'dist/cli.js') },
    ];
    const services = [];
    for (const side of sides) {
      const dataDir = join(dir, side.name);
      const env = { SECRETS_DATA_DIR: dataDir, SECRETS_MASTER_KEYS: newMasterKeys(), SECRETS_ADMIN_TOKEN: adminToken, NATS_URL: nats.url };
      const service = await startService(env, [], side.cli);
      started.push(service);
      await prepareWrites(service, adminToken);
      services.push({ ...side, service, dataDir, ...(await prepareResolves(service, adminToken)), resolves: [] as number[], writes: [] as number[], resolveCpuUs: [] as number[], writeCpuUs: [] as number[] });
    }
    for (let pass = 1; pass <= Number(rounds); pass++) {
      for (const side of pass % 2 === 1 ? services : [...services].reverse()) {
        progress(`${side.name}, round ${pass}`);
        // The service's CPU per operation as well: unlike a rate, it hardly moves with the load others put on the machine.
        let cpu = side.service.cpuSeconds();
        const resolves = await measureHttpResolves(side.service, side.executorToken, side.keys, Number(seconds));
        side.resolves.push(resolves);
        side.resolveCpuUs.push(((side.service.cpuSeconds() - cpu) * 1e6) / (resolves * Number(seconds)));
        cpu = side.service.cpuSeconds();
        const writes = (await measureWrites(side.service, () => committedSqliteWrites(join(side.dataDir, 'secrets.db')), adminToken, Number(seconds), pass)).perS;
        side.writes.push(writes);
        side.writeCpuUs.push(((side.service.cpuSeconds() - cpu) * 1e6) / (writes * Number(seconds)));
      }
    }
    const [ours, theirs] = services;
    const cpu = (of: (side: typeof ours) => number[]) => ({ this: round(median(of(ours)), 0), other: round(median(of(theirs)), 0), ratio: round(median(of(ours)) / median(of(theirs))) });
    const report = {
      resolve_cpu_us: cpu((side) => side.resolveCpuUs),
      write_cpu_us: cpu((side) => side.writeCpuUs),
      resolves_per_s: { this: round(median(ours.resolves), 0), other: round(median(theirs.resolves), 0), ratio: round(median(ours.resolves) / median(theirs.resolves)) },
      writes_per_s: { this: round(median(ours.writes), 0), other: round(median(theirs.writes), 0), ratio: round(median(ours.writes) / median(theirs.writes)) },
    };
    for (const side of services) {
      const db = new Database(join(side.dataDir, 'secrets.db'), { readonly: true });
      const { entries, deliveries } = db
        .prepare("SELECT COUNT(*) AS entries, SUM(COALESCE(json_extract(data, '$.deliveries'), 1)) AS deliveries FROM events WHERE type = 'SecretsResolved'")
        .get() as { entries: number; deliveries: number };
      db.close();
      progress(`${side.name}: ${deliveries} resolves recorded in ${entries} SecretsResolved entries`);
    }
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await Promise.all(started.map((service) => service.stop()));
    await nats.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`compare failed: ${error instanceof Error ? error.stack : error}\n`);
  process.exit(1);
});
