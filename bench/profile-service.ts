/**
 * `node .bench-build/bench/profile-service.js <writes|resolves|propagation|fanout|fanout-stream> [seconds | executors]`:
 * runs the service under --cpu-prof with one load, for finding what stands in the way.
 * Profiles land in .bench-build/profiles/.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newMasterKeys } from './lib/ledger';
import { progress } from './lib/report';
import { startService } from './lib/service-process';
import { measureHttpResolves, prepareResolves } from './scenarios/resolves';
import { committedSqliteWrites, measureWrites, prepareWrites } from './scenarios/writes';
import { measurePropagation } from './scenarios/propagation';
import { measureFanout, prepareFanout } from './scenarios/fanout';
import { STREAM_BENCH_ENV } from './scenarios/stream-propagation';
import { median } from './lib/report';
import { PrivateNatsServer } from '../test/support/nats';

async function main(): Promise<void> {
  const [load = 'resolves', seconds = '6'] = process.argv.slice(2);
  const nats = await PrivateNatsServer.start();
  const natsUrl = nats.url;
  const adminToken = `slt_${randomBytes(32).toString('base64url')}`;
  const profiles = join(__dirname, '../profiles');
  const dataDir = mkdtempSync(join(tmpdir(), 'secrets-ledger-profile-'));
  const service = await startService({
    SECRETS_DATA_DIR: dataDir,
    SECRETS_MASTER_KEYS: newMasterKeys(),
    SECRETS_ADMIN_TOKEN: adminToken,
    NATS_URL: natsUrl,
    ...STREAM_BENCH_ENV,
  }, ['--cpu-prof', `--cpu-prof-dir=${profiles}`]);
  if (load === 'writes') {
    await prepareWrites(service, adminToken);
    await measureWrites(service, () => committedSqliteWrites(join(dataDir, 'secrets.db')), adminToken, Number(seconds));
  }
  else if (load.startsWith('fanout')) {
    await prepareFanout(service, adminToken);
    await measureFanout(service, natsUrl, adminToken, load === 'fanout-stream' ? 'stream' : 'nats', Number(seconds), 10);
  } else if (load === 'propagation') progress(`propagation p50 ${median((await measurePropagation(service, natsUrl, adminToken, 100 * Number(seconds))).latencies).toFixed(3)} ms`);
  else {
    const { keys, executorToken } = await prepareResolves(service, adminToken);
    await measureHttpResolves(service, executorToken, keys, Number(seconds));
  }
  await service.stop();
  await nats.dispose();
  progress(`profile written to ${profiles}`);
}

void main();
