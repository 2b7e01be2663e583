import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect } from 'nats';
import { median, nowMs, percentile, progress, round } from '../lib/report';
import { ServiceProcess, api, apiJson } from '../lib/service-process';

type ClientMessage = { ready: true } | { sample: number; at: number };

/** Samples of ours between two chunks of the floor: both see the same stretch of the machine's noise. */
const CHUNK = 100;
/** Changes made before anything is timed, so both processes' hot paths are compiled; the floor gets the same. */
const WARMUP = 100;
/** Round trips on the floor's fresh connections before its chunk is timed. */
const FLOOR_WARMUP = 10;

/**
 * Write acknowledged → cached context updated, across processes: the admin's PATCH returns at
 * t0 (here), the SDK client in another process sees the new value at t1; both clocks are the
 * machine's wall clock with sub-millisecond resolution (performance.timeOrigin + now()). After
 * every hundred samples, a hundred samples of the floor (measureFloor), so the ratio compares
 * like with like on a noisy machine.
 */
export async function measurePropagation(
  service: ServiceProcess,
  natsUrl: string,
  adminToken: string,
  samples: number,
  /** Where the admin writes; the executor resolves from `service` (several instances: another one). */
  writer: ServiceProcess = service,
): Promise<{ latencies: number[]; floor: number[] }> {
  const key = 'PROPAGATION_PROBE';
  await apiJson(writer.url, adminToken, '/api/v1/secrets', { method: 'POST', json: { key, value: 'sample-0-initial' } });
  const { token } = await apiJson<{ token: string }>(service.url, adminToken, '/api/v1/tokens', {
    method: 'POST',
    json: { name: 'bench-propagation', role: 'executor' },
  });
  const child = fork(join(__dirname, 'propagation-client.js'), [service.url, natsUrl, token, key], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const seen = new Map<number, number>();
  let waiting: { sample: number; resolve: () => void } | undefined;
  await new Promise<void>((resolve, reject) => {
    child.on('message', (message: ClientMessage) => {
      if ('ready' in message) return resolve();
      seen.set(message.sample, message.at);
      if (waiting && message.sample === waiting.sample) waiting.resolve();
    });
    child.on('exit', (code) => reject(new Error(`propagation client exited with ${code}`)));
  });

  progress(`propagation: ${WARMUP} changes to warm up, then ${samples} measured, one at a time`);
  const latencies: number[] = [];
  const floor: number[] = [];
  for (let i = 1; i <= WARMUP + samples; i++) {
    const arrived = new Promise<void>((resolve) => (waiting = { sample: i, resolve }));
    const timeout = setTimeout(() => waiting?.resolve(), 5_000);
    const res = await api(writer.url, adminToken, `/api/v1/secrets/${key}`, { method: 'PATCH', json: { value: `sample-${i}-${randomBytes(6).toString('hex')}` } });
    const acknowledged = nowMs();
    if (!res.ok) throw new Error(`propagation: PATCH ${res.status}`);
    await arrived;
    clearTimeout(timeout);
    const at = seen.get(i);
    if (at === undefined) throw new Error(`propagation: sample ${i} never reached the client`);
    if (i <= WARMUP) continue;
    // The notification can beat the HTTP response back to us: that counts as zero delay.
    latencies.push(Math.max(0, at - acknowledged));
    const measured = latencies.length;
    if (measured % CHUNK === 0 || measured === samples) {
      floor.push(...(await measureFloor(natsUrl, measured % CHUNK || CHUNK)));
      progress(`  ${measured}/${samples}: p50 so far ${median(latencies).toFixed(2)} ms, floor ${median(floor).toFixed(3)} ms`);
    }
  }
  child.send('stop');
  return { latencies, floor };
}

/**
 * The floor, measured in the same run: what a notified client must do at least — one plain NATS
 * publish → subscribe hop between two clients, then one HTTP request → response on a kept-alive
 * connection to a bare Node server (no framework, no database, no crypto).
 */
export async function measureFloor(natsUrl: string, samples: number) {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"secrets":{},"revision":0}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const fetchOnce = () =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/api/v1/resolve', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.once('error', reject);
      req.end('{"plugin":"p","keys":["K"]}');
    });
  const publisher = await connect({ servers: natsUrl });
  const subscriber = await connect({ servers: natsUrl });
  const subject = `bench.floor.${randomBytes(4).toString('hex')}.changed`;
  const notifications = subscriber.subscribe(subject);
  await subscriber.flush();
  const latencies: number[] = [];
  const iterator = notifications[Symbol.asyncIterator]();
  try {
    for (let i = -FLOOR_WARMUP; i < samples; i++) {
      const started = performance.now();
      publisher.publish(subject, new TextEncoder().encode(`{"revision":${i}}`));
      await iterator.next();
      await fetchOnce();
      if (i >= 0) latencies.push(performance.now() - started);
    }
  } finally {
    await publisher.close();
    await subscriber.close();
    agent.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
  return latencies;
}

export function propagationResult({ latencies, floor }: { latencies: number[]; floor: number[] }) {
  const p50 = median(latencies);
  const floorP50 = median(floor);
  return { samples: latencies.length, p50_ms: round(p50, 3), p99_ms: round(percentile(latencies, 99), 3), floor_p50_ms: round(floorP50, 3), ratio_p50: round(p50 / floorP50) };
}
