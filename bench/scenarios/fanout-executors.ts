/**
 * One process of the fanout benchmark: `count` executors, each with a connection of its own.
 * Over `nats` and `stream` each is an SDK client (its own HTTP agent and change subscription)
 * with one hydrated context of the 12-key manifest. Over `floor` each is the least a notified
 * executor does: its own NATS connection and kept-alive HTTP connection, and on each message one
 * POST to the bare floor server whose reply it parses. When told which sample to wait for, the
 * process reports (over IPC) the moment each executor held it — the value stays here; only the
 * sample number parsed from it decides.
 */
import { Agent, request } from 'node:http';
import { connect as connectNats } from 'nats';
import { SecretsClient } from '../../src/client';
import { nowMs } from '../lib/report';

export type Transport = 'nats' | 'stream' | 'floor';

export interface FanoutProcessArgs {
  url: string;
  natsUrl: string;
  token: string;
  plugin: string;
  keys: string[];
  /** The key the changes write. */
  probe: string;
  count: number;
  transport: Transport;
  /** `floor`: the subject the bench publishes each change on. */
  floorSubject?: string;
}

export type FanoutMessage = { ready: true } | { sample: number; arrivals: number[] };

/** One executor as the bench sees it: the probe's value it holds now, and a signal when that may have changed. */
interface Executor {
  probeValue(): string | undefined;
  onChange(listener: () => void): void;
  close(): Promise<void>;
}

const sampleOf = (value: string | undefined) => Number(/^sample-(\d+)-/.exec(value ?? '')?.[1] ?? -1);

async function sdkExecutor(args: FanoutProcessArgs): Promise<Executor> {
  // Without `nats`, the SDK follows the service's own change stream.
  const options = { url: args.url, token: args.token, precedence: 'store-only' as const };
  const client = await SecretsClient.connect(args.transport === 'nats' ? { ...options, nats: { url: args.natsUrl } } : options);
  const context = await client.hydrate({ name: args.plugin, secrets: args.keys });
  return { probeValue: () => context.secrets.get(args.probe), onChange: (listener) => context.on('change', listener), close: () => client.close() };
}

async function floorExecutor(args: FanoutProcessArgs): Promise<Executor> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const { hostname, port } = new URL(args.url);
  const body = JSON.stringify({ plugin: args.plugin, keys: [args.probe] });
  const listeners: (() => void)[] = [];
  let held: string | undefined;
  const fetchOnce = () =>
    new Promise<void>((resolve, reject) => {
      const req = request({ hostname, port, path: '/api/v1/resolve', method: 'POST', agent, headers: { authorization: `Bearer ${args.token}`, 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          held = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { secrets: Record<string, string> }).secrets[args.probe];
          listeners.forEach((listener) => listener());
          resolve();
        });
      });
      req.once('error', reject);
      req.end(body);
    });
  await fetchOnce();
  const nats = await connectNats({ servers: args.natsUrl });
  const subscription = nats.subscribe(args.floorSubject!, { callback: () => void fetchOnce() });
  await nats.flush();
  return {
    probeValue: () => held,
    onChange: (listener) => listeners.push(listener),
    close: async () => {
      subscription.unsubscribe();
      await nats.close();
      agent.destroy();
    },
  };
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as FanoutProcessArgs;
  const start = args.transport === 'floor' ? floorExecutor : sdkExecutor;
  const executors: Executor[] = [];
  // Hydrate in small groups: a thousand at once would be a load test of start-up, not of a change.
  for (let i = 0; i < args.count; i += 10) {
    executors.push(...(await Promise.all(Array.from({ length: Math.min(10, args.count - i) }, () => start(args)))));
  }
  const arrivals = new Map<number, number[]>();
  let waiting: number | undefined;
  const report = (sample: number) => {
    const times = arrivals.get(sample)!;
    if (times.filter((t) => t > 0).length < executors.length) return;
    process.send!({ sample, arrivals: times } satisfies FanoutMessage);
    waiting = undefined;
  };
  executors.forEach((executor, i) =>
    executor.onChange(() => {
      const sample = sampleOf(executor.probeValue());
      if (!arrivals.has(sample)) arrivals.set(sample, new Array(executors.length).fill(0));
      const times = arrivals.get(sample)!;
      if (times[i] === 0) times[i] = nowMs();
      if (sample === waiting) report(sample);
    }),
  );
  process.on('message', async (message: { wait?: number; stop?: true }) => {
    if (message.stop) {
      await Promise.all(executors.map((executor) => executor.close()));
      process.exit(0);
    }
    if (message.wait !== undefined) {
      waiting = message.wait;
      if (!arrivals.has(waiting)) arrivals.set(waiting, new Array(executors.length).fill(0));
      // Executors that already hold it were counted as it arrived.
      executors.forEach((executor, i) => {
        const times = arrivals.get(message.wait!)!;
        if (times[i] === 0 && sampleOf(executor.probeValue()) === message.wait) times[i] = nowMs();
      });
      report(waiting);
    }
  });
  process.send!({ ready: true } satisfies FanoutMessage);
}

main().catch((error) => {
  process.stderr.write(`fanout executors: ${error instanceof Error ? error.stack : error}\n`);
  process.exit(1);
});
