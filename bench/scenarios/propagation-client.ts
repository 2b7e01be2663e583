/**
 * The executor side of the propagation benchmark, in its own process: an SDK client with one
 * hydrated context. It reports (over IPC) the moment its cached value changes — the value
 * itself stays here; only the sample number parsed from it leaves.
 */
import { SecretsClient } from '../../src/client';
import { nowMs } from '../lib/report';

async function main(): Promise<void> {
  const [url, natsUrl, token, key] = process.argv.slice(2);
  const client = await SecretsClient.connect({ url, nats: { url: natsUrl }, token, precedence: 'store-only' });
  const ctx = await client.hydrate({ name: '@bench/propagation', secrets: [key] });
  let last = ctx.secrets.get(key);
  ctx.on('change', () => {
    const value = ctx.secrets.get(key);
    if (value === last) return;
    last = value;
    process.send!({ sample: Number(/^sample-(\d+)-/.exec(value ?? '')?.[1] ?? -1), at: nowMs() });
  });
  process.on('message', async (message) => {
    if (message === 'stop') {
      await client.close();
      process.exit(0);
    }
  });
  process.send!({ ready: true });
}

main().catch((error) => {
  process.stderr.write(`propagation client: ${error instanceof Error ? error.stack : error}\n`);
  process.exit(1);
});
