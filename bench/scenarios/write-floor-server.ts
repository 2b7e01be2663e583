/**
 * The HTTP write floor's server, in its own process as the service is: Fastify (the service's
 * HTTP framework) parsing each POST or PATCH and nothing else — no Nest, no authentication, no
 * validation, no sealing, no hash chain, no audit — and the write floor's raw append transaction
 * for it, group-committed: the writes that arrive in one turn of the event loop share one
 * transaction, each in a savepoint, and each is answered once that transaction has committed.
 * What any HTTP write service on this stack and this disk must at least spend.
 */
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { openRawAppend } from './writes';

async function main(): Promise<void> {
  const [databasePath, masterKeys] = process.argv.slice(2);
  const raw = await openRawAppend(databasePath, masterKeys);
  let seq = 0;
  let queue: { seq: number; done: () => void }[] = [];
  const commit = () => {
    const batch = queue;
    queue = [];
    raw.appendAll(batch.map((job) => job.seq));
    for (const job of batch) job.done();
  };
  const append = () =>
    new Promise<void>((done) => {
      queue.push({ seq: ++seq, done });
      if (queue.length === 1) setImmediate(commit);
    });

  const app = Fastify();
  app.post('/api/v1/secrets', async (request, reply) => {
    await append();
    return reply.code(201).send({ key: (request.body as { key: string }).key, version: 1 });
  });
  app.patch('/api/v1/secrets/:key', async (request) => {
    await append();
    return { key: (request.params as { key: string }).key, version: 2 };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.send!({ url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` });
  process.on('message', (message: { stop?: true }) => {
    if (message.stop) void app.close().then(() => (raw.close(), process.exit(0)));
  });
}

void main();
