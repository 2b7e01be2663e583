/**
 * `node .bench-build/bench/latency-ladder.js [other checkout…]`: one request at a time on an idle
 * service, each kind after the other, 300 rounds; the median of each after 50 rounds of warm-up.
 * The rungs add one thing each — the framework (`GET /health`), authentication (`whoami`), a
 * read of the store (`GET /secrets/:key`), a durable audit entry (`resolve`), a durable write
 * (`PATCH`) — so the difference between two rungs is what that thing costs a lone request, the
 * way a notified executor meets it. Beside them, in the same loop, `raw_commit`: the write
 * floor's raw better-sqlite3 append transaction (scenarios/writes.ts) committed once per round,
 * as lone as the requests. With other checkouts (built: their dist/cli.js), the same for each,
 * one after the other.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, request } from 'node:http';
import { newMasterKeys } from './lib/ledger';
import { median, nowMs, progress, round } from './lib/report';
import { apiJson, startService } from './lib/service-process';
import { openRawAppend } from './scenarios/writes';

const ROUNDS = 300;
const WARMUP = 50;

async function ladder(cli: string | undefined) {
  const dataDir = mkdtempSync(join(tmpdir(), 'secrets-ledger-ladder-'));
  const adminToken = `slt_${randomBytes(32).toString('base64url')}`;
  // No NATS: nothing but the request itself runs in the service.
  const service = await startService({ SECRETS_DATA_DIR: dataDir, SECRETS_MASTER_KEYS: newMasterKeys(), SECRETS_ADMIN_TOKEN: adminToken, NATS_URL: 'nats://127.0.0.1:1' }, [], cli);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const raw = await openRawAppend(join(dataDir, 'raw-commit.db'), newMasterKeys());
  try {
    const key = 'LADDER_KEY';
    await apiJson(service.url, adminToken, '/api/v1/secrets', { method: 'POST', json: { key, value: 'ladder-0' } });
    const { token } = await apiJson<{ token: string }>(service.url, adminToken, '/api/v1/tokens', { method: 'POST', json: { name: 'ladder', role: 'executor' } });
    const { port } = new URL(service.url);
    const timed = (method: string, path: string, bearer: string, body?: unknown) =>
      new Promise<number>((done, fail) => {
        const started = nowMs();
        const headers = { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
        const req = request({ host: '127.0.0.1', port, path, method, agent, headers }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode! < 300 ? done(nowMs() - started) : fail(new Error(`${method} ${path}: ${res.statusCode}`))));
        });
        req.once('error', fail);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      });
    const rungs: [string, (round: number) => Promise<number>][] = [
      ['health', () => timed('GET', '/health', adminToken)],
      ['whoami', () => timed('GET', '/api/v1/whoami', adminToken)],
      ['read_secret', () => timed('GET', `/api/v1/secrets/${key}`, adminToken)],
      ['resolve_1_key', () => timed('POST', '/api/v1/resolve', token, { plugin: 'ladder', keys: [key] })],
      ['patch', (n) => timed('PATCH', `/api/v1/secrets/${key}`, adminToken, { value: `ladder-${n}` })],
      [
        'raw_commit',
        async (n) => {
          const started = nowMs();
          raw.append(n);
          return nowMs() - started;
        },
      ],
    ];
    const samples = new Map<string, number[]>(rungs.map(([name]) => [name, []]));
    for (let n = 1; n <= WARMUP + ROUNDS; n++) {
      for (const [name, run] of rungs) {
        const ms = await run(n);
        if (n > WARMUP) samples.get(name)!.push(ms);
      }
    }
    return Object.fromEntries([...samples].map(([name, ms]) => [`${name}_p50_ms`, round(median(ms), 3)]));
  } finally {
    raw.close();
    agent.destroy();
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const others = process.argv.slice(2);
  const result: Record<string, object> = {};
  for (const [name, cli] of [['this', undefined], ...others.map((other) => [other, join(resolve(other), 'dist/cli.js')])] as [string, string | undefined][]) {
    progress(`latency ladder: ${name}`);
    result[name] = await ladder(cli);
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : error}\n`);
  process.exit(1);
});
