/**
 * One process of the fanout benchmark: `count` executors, each an SDK client of its own (its
 * own HTTP agent and change subscription) with one hydrated context of the 12-key manifest.
 * When told which sample to wait for, it reports (over IPC) the moment each context held it —
 * the value stays here; only the sample number parsed from it decides.
 */
import { SecretsClient } from '../../src/client';
import type { PluginContext } from '../../src/client';
import { nowMs } from '../lib/report';

export type Transport = 'nats' | 'stream';

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
}

export type FanoutMessage = { ready: true } | { sample: number; arrivals: number[] };

const sampleOf = (value: string | undefined) => Number(/^sample-(\d+)-/.exec(value ?? '')?.[1] ?? -1);

async function connect(args: FanoutProcessArgs): Promise<SecretsClient> {
  // Without `nats`, the SDK follows the service's own change stream.
  const options = { url: args.url, token: args.token, precedence: 'store-only' as const };
  return SecretsClient.connect(args.transport === 'nats' ? { ...options, nats: { url: args.natsUrl } } : options);
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as FanoutProcessArgs;
  const clients: SecretsClient[] = [];
  const contexts: PluginContext[] = [];
  // Hydrate in small groups: a thousand at once would be a load test of start-up, not of a change.
  for (let i = 0; i < args.count; i += 10) {
    const group = await Promise.all(Array.from({ length: Math.min(10, args.count - i) }, () => connect(args)));
    clients.push(...group);
    contexts.push(...(await Promise.all(group.map((client) => client.hydrate({ name: args.plugin, secrets: args.keys })))));
  }
  const arrivals = new Map<number, number[]>();
  let waiting: number | undefined;
  const report = (sample: number) => {
    const times = arrivals.get(sample)!;
    if (times.filter((t) => t > 0).length < contexts.length) return;
    process.send!({ sample, arrivals: times } satisfies FanoutMessage);
    waiting = undefined;
  };
  contexts.forEach((context, i) =>
    context.on('change', () => {
      const sample = sampleOf(context.secrets.get(args.probe));
      if (!arrivals.has(sample)) arrivals.set(sample, new Array(contexts.length).fill(0));
      const times = arrivals.get(sample)!;
      if (times[i] === 0) times[i] = nowMs();
      if (sample === waiting) report(sample);
    }),
  );
  process.on('message', async (message: { wait?: number; stop?: true }) => {
    if (message.stop) {
      await Promise.all(clients.map((client) => client.close()));
      process.exit(0);
    }
    if (message.wait !== undefined) {
      waiting = message.wait;
      if (!arrivals.has(waiting)) arrivals.set(waiting, new Array(contexts.length).fill(0));
      // Contexts that already hold it were counted as it arrived.
      contexts.forEach((context, i) => {
        const times = arrivals.get(message.wait!)!;
        if (times[i] === 0 && sampleOf(context.secrets.get(args.probe)) === message.wait) times[i] = nowMs();
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
