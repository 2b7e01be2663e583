/**
 * The reader side of the change-stream benchmarks, in its own process: `count` readers of
 * `GET /api/v1/changes` (plain Node http, the SDK's parser), each reporting over IPC the moment
 * it read each change (the nth change since it opened), and, for the floor, a reader of a bare
 * chunked response on a kept-alive connection reporting each chunk it read.
 */
import { request } from 'node:http';
import { Agent } from 'node:http';
import { EventStreamParser } from '../../src/client/server-sent-events';
import { nowMs } from '../lib/report';

export type StreamClientMessage = { ready: true } | { change: number; reader: number; at: number } | { chunk: number; at: number };

function openReader(url: string, token: string, reader: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let changes = 0;
    const parser = new EventStreamParser((event) => {
      if (event.event === 'change') process.send!({ change: ++changes, reader, at: nowMs() } satisfies StreamClientMessage);
    });
    const req = request(`${url}/api/v1/changes`, { headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`reader ${reader}: ${res.statusCode}`));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => parser.push(chunk));
      // The stream is positioned before its head is sent: from here on, every change reaches it.
      resolve();
    });
    req.once('error', reject);
    req.end();
  });
}

function openFloorReader(url: string): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        for (const match of chunk.matchAll(/(\d+)\n/g)) process.send!({ chunk: Number(match[1]), at: nowMs() } satisfies StreamClientMessage);
      });
      resolve();
    });
    req.once('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const [url, token, count, floorUrl] = process.argv.slice(2);
  for (let reader = 0; reader < Number(count); reader += 50) {
    await Promise.all(Array.from({ length: Math.min(50, Number(count) - reader) }, (_, i) => openReader(url, token, reader + i)));
  }
  if (floorUrl) await openFloorReader(floorUrl);
  process.on('message', (message) => message === 'stop' && process.exit(0));
  process.send!({ ready: true } satisfies StreamClientMessage);
}

main().catch((error) => {
  process.stderr.write(`stream client: ${error instanceof Error ? error.stack : error}\n`);
  process.exit(1);
});
