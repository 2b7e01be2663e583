import { ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { KEYS_PER_REQUEST } from './resolves';
import type { FanoutMessage, FanoutProcessArgs, Transport } from './fanout-executors';
import { median, nowMs, percentile, progress, round } from '../lib/report';
import { ServiceProcess, api, apiJson, cpuSecondsOf } from '../lib/service-process';
import { connect as connectNats } from 'nats';

const PLUGIN = '@bench/fanout';
const KEYS = Array.from({ length: KEYS_PER_REQUEST }, (_, i) => `FANOUT_KEY_${i + 1}`);
const PROBE = KEYS[0];
/** Executors per process at most: a thousand are ten processes of a hundred. */
const PER_PROCESS = 100;
/** Changes before anything is timed, so every process's hot path is compiled. */
const WARMUP = 3;
const CONVERGE_TIMEOUT_MS = 30_000;

/** The manifest's twelve secrets, once per service. */
export async function prepareFanout(service: ServiceProcess, adminToken: string): Promise<void> {
  for (const key of KEYS) await apiJson(service.url, adminToken, '/api/v1/secrets', { method: 'POST', json: { key, value: 'sample-0-initial' } });
}

/** Where a timed change comes from: the service (an admin's PATCH), or the floor's bare server and a NATS publish. */
interface ChangeSource {
  url: string;
  /** Makes change `sample` and resolves at t0: the moment the change counts as made. */
  change(sample: number): Promise<number>;
  /** CPU seconds of the process that answers the executors. */
  cpuSeconds(): number;
  close(): Promise<void>;
}

function serviceChanges(service: ServiceProcess, adminToken: string): ChangeSource {
  return {
    url: service.url,
    change: async (sample) => {
      const res = await api(service.url, adminToken, `/api/v1/secrets/${PROBE}`, { method: 'PATCH', json: { value: `sample-${sample}-${randomBytes(6).toString('hex')}` } });
      const acknowledged = nowMs();
      if (!res.ok) throw new Error(`fanout: PATCH ${res.status}`);
      return acknowledged;
    },
    cpuSeconds: () => service.cpuSeconds(),
    close: async () => undefined,
  };
}

/**
 * The floor of the NATS transport: a bare server (fanout-floor-server) told the new sample, then
 * one NATS publish, timed from just before it; each executor then makes one HTTP request.
 */
async function floorChanges(natsUrl: string, subject: string): Promise<ChangeSource> {
  const server = fork(join(__dirname, 'fanout-floor-server.js'), [JSON.stringify(KEYS), PROBE], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('message', (message: { port: number }) => resolve(message.port));
    server.once('exit', (code) => reject(new Error(`fanout floor server exited with ${code}`)));
  });
  const nats = await connectNats({ servers: natsUrl });
  return {
    url: `http://127.0.0.1:${port}`,
    change: async (sample) => {
      await new Promise<void>((resolve) => {
        const set = (message: { set?: number }) => {
          if (message.set !== sample) return;
          server.off('message', set);
          resolve();
        };
        server.on('message', set);
        server.send({ sample });
      });
      const t0 = nowMs();
      nats.publish(subject, new TextEncoder().encode(`{"revision":${sample}}`));
      return t0;
    },
    cpuSeconds: () => cpuSecondsOf(server.pid!),
    close: async () => {
      await nats.close();
      server.removeAllListeners('exit');
      server.kill();
    },
  };
}

/**
 * One change reaching `executors` SDK executors in other processes (up to a hundred per process,
 * at least ten processes), each holding a hydrated context of a 12-key manifest: the admin's
 * PATCH is acknowledged at t0; each context's latency is the moment it holds the new value,
 * minus t0 (both clocks the machine's wall clock). `changes` changes, one at a time; p50 and
 * p99 over every context of every change, the worst one, and the service's CPU per change.
 * Transport `floor` measures the same with bare parts (see floorChanges and fanout-executors).
 */
export async function measureFanout(service: ServiceProcess, natsUrl: string, adminToken: string, transport: Transport, executors: number, changes: number) {
  const processes = Math.max(Math.ceil(executors / PER_PROCESS), Math.min(10, executors));
  progress(`fanout/${transport}: ${executors} executors in ${processes} processes, hydrating`);
  const children: { child: ChildProcess; messages: (message: FanoutMessage) => void }[] = [];
  const arrivals = new Map<number, number[][]>();
  let arrived: (() => void) | undefined;
  const floorSubject = `bench.fanout-floor.${randomBytes(4).toString('hex')}`;
  const source = transport === 'floor' ? await floorChanges(natsUrl, floorSubject) : serviceChanges(service, adminToken);
  try {
    await Promise.all(
      Array.from({ length: processes }, async (_, p) => {
        const { token } =
          transport === 'floor'
            ? { token: `slt_${randomBytes(32).toString('base64url')}` }
            : await apiJson<{ token: string }>(service.url, adminToken, '/api/v1/tokens', {
                method: 'POST',
                json: { name: `bench-fanout-${transport}-${executors}-${p}`, role: 'executor', plugins: [PLUGIN] },
              });
        const count = Math.floor(executors / processes) + (p < executors % processes ? 1 : 0);
        const args: FanoutProcessArgs = { url: source.url, natsUrl, token, plugin: PLUGIN, keys: KEYS, probe: PROBE, count, transport, floorSubject };
        const child = fork(join(__dirname, 'fanout-executors.js'), [JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        await new Promise<void>((resolve, reject) => {
          const entry = {
            child,
            messages: (message: FanoutMessage) => {
              if ('ready' in message) return resolve();
              arrivals.set(message.sample, [...(arrivals.get(message.sample) ?? []), message.arrivals]);
              if (arrivals.get(message.sample)!.length === processes) arrived?.();
            },
          };
          children.push(entry);
          child.on('message', entry.messages);
          child.once('exit', (code) => reject(new Error(`fanout executors exited with ${code}`)));
        });
      }),
    );

    const latencies: number[] = [];
    const worst: number[] = [];
    let cpuSeconds = 0;
    const first = Number(Date.now());
    for (let i = 1; i <= WARMUP + changes; i++) {
      const sample = first + i;
      const all = new Promise<void>((resolve, reject) => {
        arrived = resolve;
        setTimeout(() => reject(new Error(`fanout/${transport}: change ${i} reached ${arrivals.get(sample)?.length ?? 0}/${processes} processes in ${CONVERGE_TIMEOUT_MS} ms`)), CONVERGE_TIMEOUT_MS).unref();
      });
      children.forEach(({ child }) => child.send({ wait: sample }));
      const cpuBefore = source.cpuSeconds();
      const acknowledged = await source.change(sample);
      await all;
      // The refreshes the change caused have been answered: what they cost the service is in.
      const cpu = source.cpuSeconds() - cpuBefore;
      if (i <= WARMUP) continue;
      cpuSeconds += cpu;
      const these = arrivals.get(sample)!.flat().map((at) => Math.max(0, at - acknowledged));
      latencies.push(...these);
      worst.push(Math.max(...these));
    }
    const result = {
      executors,
      processes,
      changes,
      p50_ms: round(median(latencies), 2),
      p99_ms: round(percentile(latencies, 99), 2),
      max_ms: round(Math.max(...latencies), 2),
      converged_p50_ms: round(median(worst), 2),
      service_cpu_ms_per_change: round((cpuSeconds * 1000) / changes, 1),
    };
    progress(`fanout/${transport}/n${executors}: p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, max ${result.max_ms} ms; service CPU ${result.service_cpu_ms_per_change} ms per change`);
    return result;
  } finally {
    await Promise.all([
      source.close(),
      ...children.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.removeAllListeners('exit');
            child.once('exit', () => resolve());
            child.send({ stop: true });
            setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    ]);
  }
}
