import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { SecretsClient, SecretsClientOptions } from '../../src/client';
import { CLI } from '../support/cli';
import { expectEventually } from '../support/expect-eventually';
import { uniqueKey } from '../support/nats';
import { TcpProxy, startTcpProxy } from '../support/tcp-proxy';
import { tempDataDir, useTestApp, writeSecret } from '../support/test-app';

/**
 * SPEC §5 and §6: without `nats`, the SDK and `run --watch` follow the service's change stream.
 * No NATS server is involved anywhere here: the service itself is given an address where none listens.
 */
describe('the SDK and run --watch on the change stream, with no NATS', () => {
  const t = useTestApp({ nats: { url: 'nats://127.0.0.1:1' } });
  const work = tempDataDir('secrets-ledger-stream-run-');
  let executor: string;
  const clients: SecretsClient[] = [];
  const proxies: TcpProxy[] = [];
  const logs: string[] = [];

  const connect = async (options: Partial<SecretsClientOptions> = {}) => {
    const client = await SecretsClient.connect({ url: t.baseUrl, token: executor, env: {}, log: (level, message) => logs.push(`${level}: ${message}`), ...options });
    clients.push(client);
    return client;
  };
  const write = (key: string, value: string) => writeSecret(t, key, value);

  beforeAll(async () => {
    executor = (await t.app.get(TokensService).issue({ name: 'stream-sdk', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await Promise.all(proxies.map((proxy) => proxy.close()));
    work.cleanup();
  });

  it('a hydrated context is live and sees a change within a second of its acknowledgement', async () => {
    const key = uniqueKey('STREAM_SDK');
    await write(key, 'stream-sdk-v1');
    const ctx = await (await connect({ resyncIntervalMs: 3_600_000 })).hydrate({ name: 'stream-sdk', secrets: [key] });
    expect(ctx.live).toBe(true);
    const changed = new Promise<number>((resolve) => ctx.on('change', () => resolve(Date.now())));
    await write(key, 'stream-sdk-v2');
    const acknowledged = Date.now();
    expect((await changed) - acknowledged).toBeLessThan(1_000);
    expect(ctx.secrets.get(key)).toBe('stream-sdk-v2');
  });

  it('a dropped stream turns live off, and on reconnecting (from its last id) the change made meanwhile arrives', async () => {
    const key = uniqueKey('STREAM_DROP');
    await write(key, 'drop-v1');
    const proxy = await startTcpProxy(t.baseUrl);
    proxies.push(proxy);
    const ctx = await (await connect({ url: proxy.url, resyncIntervalMs: 3_600_000 })).hydrate({ name: 'stream-drop', secrets: [key] });
    expect(ctx.live).toBe(true);
    proxy.cut();
    await expectEventually(() => expect(ctx.live).toBe(false), 2_000);
    await write(key, 'drop-v2');
    expect(ctx.secrets.get(key)).toBe('drop-v1');
    proxy.reopen();
    await expectEventually(() => expect([ctx.live, ctx.secrets.get(key)]).toEqual([true, 'drop-v2']), 10_000);
    expect(logs.some((line) => line.startsWith('warn: cannot receive change notifications (the change stream at'))).toBe(true);
    expect(logs.some((line) => line.startsWith('info: receiving change notifications again (stream)'))).toBe(true);
  });

  it('follow: false opens no stream: not live, and changes wait for the periodic resync', async () => {
    const key = uniqueKey('STREAM_UNFOLLOWED');
    await write(key, 'unfollowed-v1');
    const ctx = await (await connect({ follow: false, resyncIntervalMs: 3_600_000 })).hydrate({ name: 'unfollowed', secrets: [key] });
    expect(ctx.live).toBe(false);
    await write(key, 'unfollowed-v2');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(ctx.secrets.get(key)).toBe('unfollowed-v1');
  });

  it('a revoked token: the stream ends, live turns off, and the warning says why', async () => {
    const issued = await t.app.get(TokensService).issue({ name: 'stream-sdk-revoked', role: 'executor', plugins: null }, SYSTEM_ACTOR);
    const key = uniqueKey('STREAM_REVOKED');
    await write(key, 'revoked-v1');
    const ctx = await (await connect({ token: issued.token })).hydrate({ name: 'stream-revoked', secrets: [key] });
    expect(ctx.live).toBe(true);
    await t.app.get(TokensService).revoke(issued.id, SYSTEM_ACTOR);
    await expectEventually(() => expect(ctx.live).toBe(false), 1_000);
    expect(logs.some((line) => /the token was revoked/.test(line))).toBe(true);
  });

  it('run --watch without NATS_URL hears a change within a second and restarts the command with the new value', async () => {
    const key = uniqueKey('STREAM_RUN');
    await write(key, 'stream-run-v1');
    const manifest = join(work.dir, 'fiftyone.yml');
    writeFileSync(manifest, `name: "@acme/stream-run"\nsecrets:\n  - ${key}\n`);
    const out = join(work.dir, 'seen.txt');
    const script = `require('fs').appendFileSync(${JSON.stringify(out)}, process.env.${key} + '\\n'); process.on('SIGTERM', () => process.exit(7)); setInterval(() => {}, 1000);`;
    const env = { PATH: process.env.PATH, SECRETS_URL: t.baseUrl, SECRETS_TOKEN: executor };
    const cli = spawn(process.execPath, [CLI, 'run', '--plugin', manifest, '--watch', '--', process.execPath, '-e', script], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let heard = 0;
    cli.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!heard && stderr.includes('changed: restarting')) heard = Date.now();
    });
    const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
    const lines = () => (existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n') : []);
    try {
      await expectEventually(() => expect(lines()).toEqual(['stream-run-v1']), 20_000);
      await write(key, 'stream-run-v2');
      const acknowledged = Date.now();
      await expectEventually(() => expect(lines()).toEqual(['stream-run-v1', 'stream-run-v2']), 10_000);
      expect(heard - acknowledged).toBeLessThan(1_000);
      expect(stderr).not.toMatch(/NATS|cannot receive/);
    } finally {
      cli.kill('SIGTERM');
    }
    expect(await exited).toBe(7);
  });
});
