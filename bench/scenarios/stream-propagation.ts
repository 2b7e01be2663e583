import { ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { median, nowMs, percentile, progress, round } from '../lib/report';
import { ServiceProcess, api, apiJson } from '../lib/service-process';
import type { StreamClientMessage } from './stream-client';

/** Samples of ours between two chunks of the floor, as in the NATS propagation benchmark. */
const CHUNK = 100;
const WARMUP = 100;
/** The service's limits a benchmark of 1,000 readers on one address needs (SPEC §7). */
export const STREAM_BENCH_ENV = { SECRETS_MAX_STREAMS: '2000', SECRETS_STREAMS_PER_TOKEN: '2000', SECRETS_MAX_CONNECTIONS_PER_ADDRESS: '4096' };

interface Readers {
  child: ChildProcess;
  /** Resolves when `readers` readers have read change `n`, with each one's arrival time. */
  arrivals(n: number): Promise<number[]>;
  chunk(n: number): Promise<number>;
  stop(): void;
}

async function startReaders(url: string, token: string, readers: number, floorUrl?: string): Promise<Readers> {
  const child = fork(join(__dirname, 'stream-client.js'), [url, token, String(readers), ...(floorUrl ? [floorUrl] : [])], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const changes = new Map<number, number[]>();
  const chunks = new Map<number, number>();
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((resolve) => resolve());
  const until = async <T>(ready: () => T | undefined): Promise<T> => {
    for (;;) {
      const value = ready();
      if (value !== undefined) return value;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('stream benchmark: a change never reached its readers')), 10_000);
        waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  };
  await new Promise<void>((resolve, reject) => {
    child.on('message', (message: StreamClientMessage) => {
      if ('ready' in message) return resolve();
      if ('chunk' in message) chunks.set(message.chunk, message.at);
      else changes.set(message.change, [...(changes.get(message.change) ?? []), message.at]);
      wake();
    });
    child.on('exit', (code) => reject(new Error(`stream client exited with ${code}`)));
  });
  return {
    child,
    arrivals: (n) => until(() => ((changes.get(n)?.length ?? 0) >= readers ? changes.get(n) : undefined)),
    chunk: (n) => until(() => chunks.get(n)),
    stop: () => child.send('stop'),
  };
}

/** A bare Node server holding one chunked response open: the floor's writer. */
async function floorServer(): Promise<{ url: string; write(n: number): number; close(): Promise<void> }> {
  let response: ServerResponse | undefined;
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    response = res;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    write: (n) => {
      const at = nowMs();
      response!.write(`${n}\n`);
      return at;
    },
    close: async () => {
      response?.end();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * Write acknowledged → the change read by a stream client in another process, one change at a
 * time; after every hundred samples, a hundred samples of the floor: a raw chunked HTTP write →
 * read on a kept-alive connection between the same two processes (no framework, no database).
 */
export async function measureStreamPropagation(service: ServiceProcess, adminToken: string, samples: number) {
  const key = 'STREAM_PROPAGATION_PROBE';
  await apiJson(service.url, adminToken, '/api/v1/secrets', { method: 'POST', json: { key, value: 'stream-0' } });
  const { token } = await apiJson<{ token: string }>(service.url, adminToken, '/api/v1/tokens', { method: 'POST', json: { name: 'bench-stream', role: 'executor' } });
  const floor = await floorServer();
  const readers = await startReaders(service.url, token, 1, floor.url);
  progress(`stream_propagation: ${WARMUP} changes to warm up, then ${samples} measured, one at a time`);
  const latencies: number[] = [];
  const floorLatencies: number[] = [];
  let chunks = 0;
  const floorChunk = async (count: number) => {
    for (let i = 0; i < count; i++) {
      const written = floor.write(++chunks);
      floorLatencies.push(Math.max(0, (await readers.chunk(chunks)) - written));
    }
  };
  try {
    await floorChunk(WARMUP);
    floorLatencies.length = 0;
    for (let i = 1; i <= WARMUP + samples; i++) {
      const res = await api(service.url, adminToken, `/api/v1/secrets/${key}`, { method: 'PATCH', json: { value: `stream-${i}-${randomBytes(6).toString('hex')}` } });
      const acknowledged = nowMs();
      if (!res.ok) throw new Error(`stream_propagation: PATCH ${res.status}`);
      const [at] = await readers.arrivals(i);
      if (i <= WARMUP) continue;
      latencies.push(Math.max(0, at - acknowledged));
      if (latencies.length % CHUNK === 0 || latencies.length === samples) {
        await floorChunk(latencies.length % CHUNK || CHUNK);
        progress(`  ${latencies.length}/${samples}: p50 so far ${median(latencies).toFixed(2)} ms, floor ${median(floorLatencies).toFixed(3)} ms`);
      }
    }
  } finally {
    readers.stop();
    await floor.close();
  }
  const p50 = median(latencies);
  const floorP50 = median(floorLatencies);
  return { samples: latencies.length, p50_ms: round(p50, 3), p99_ms: round(percentile(latencies, 99), 3), floor_p50_ms: round(floorP50, 3), ratio_p50: round(p50 / floorP50) };
}

/** One change at a time reaching `readers` stream readers (one process holds them all): write acknowledged → read, per reader. */
export async function measureStreamFanOut(service: ServiceProcess, adminToken: string, readers: number, changes: number) {
  const key = 'STREAM_FANOUT_PROBE';
  await apiJson(service.url, adminToken, '/api/v1/secrets', { method: 'POST', json: { key, value: 'fanout-0' } });
  const { token } = await apiJson<{ token: string }>(service.url, adminToken, '/api/v1/tokens', { method: 'POST', json: { name: 'bench-fanout', role: 'executor' } });
  progress(`stream_fanout: ${readers} readers, ${changes} changes one at a time`);
  const group = await startReaders(service.url, token, readers);
  const latencies: number[] = [];
  const lastReader: number[] = [];
  try {
    for (let i = 1; i <= changes; i++) {
      const res = await api(service.url, adminToken, `/api/v1/secrets/${key}`, { method: 'PATCH', json: { value: `fanout-${i}` } });
      const acknowledged = nowMs();
      if (!res.ok) throw new Error(`stream_fanout: PATCH ${res.status}`);
      const arrivals = (await group.arrivals(i)).map((at) => Math.max(0, at - acknowledged));
      latencies.push(...arrivals);
      lastReader.push(Math.max(...arrivals));
    }
  } finally {
    group.stop();
  }
  return {
    readers,
    changes,
    p50_ms: round(median(latencies), 3),
    p99_ms: round(percentile(latencies, 99), 3),
    last_reader_p50_ms: round(median(lastReader), 3),
  };
}
