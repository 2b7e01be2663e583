/**
 * The fanout floor's server, in its own process as the service is: a bare Node `http` server (no
 * framework, no database, no crypto, no audit) that answers every POST with a resolve-shaped
 * reply naming the sample it was last told (over IPC), twelve values long. What a notified
 * executor must at least wait for, whatever the service does.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const keys = JSON.parse(process.argv[2]) as string[];
const probe = process.argv[3];
let reply = '';
const answer = (sample: number) => {
  const secrets = Object.fromEntries(keys.map((key) => [key, key === probe ? `sample-${sample}-floor` : `value-of-${key}`]));
  reply = JSON.stringify({ secrets, missing: [], unreadable: [], revision: sample });
};
answer(0);

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(reply));
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
process.on('message', (message: { sample?: number; stop?: true }) => {
  if (message.stop) process.exit(0);
  if (message.sample !== undefined) {
    answer(message.sample);
    process.send!({ set: message.sample });
  }
});
