import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CANDIDATES = ['nats-server', '/usr/sbin/nats-server', '/usr/local/bin/nats-server'];

export function findBinary(): string {
  for (const candidate of CANDIDATES) {
    if (candidate.includes('/') ? existsSync(candidate) : spawnSync(candidate, ['--version']).status === 0) return candidate;
  }
  throw new Error('These tests need a NATS server: set NATS_URL to a running one, or install nats-server (apt-get install nats-server).');
}

function hostPort(url: string): { host: string; port: number } {
  const parsed = new URL(url.replace(/^(nats|tls):/, 'http:'));
  return { host: parsed.hostname, port: Number(parsed.port || 4222) };
}

function reachable(url: string, timeoutMs = 500): Promise<boolean> {
  const { host, port } = hostPort(url);
  return acceptsConnections(port, host, timeoutMs);
}

/** Whether anything accepts TCP connections there (a service, or one that failed to stop). */
export function acceptsConnections(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface PrivateNatsOptions {
  config?: string;
  env?: NodeJS.ProcessEnv;
  scheme?: 'nats' | 'tls';
}

/** A nats-server of our own on a fixed port, which a test may stop and start again (an outage). */
export class PrivateNatsServer {
  private process: ChildProcess | undefined;
  private readonly storeDir = mkdtempSync(join(tmpdir(), 'secrets-ledger-nats-'));

  private constructor(
    private readonly binary: string,
    readonly port: number,
    private readonly options: PrivateNatsOptions,
  ) {}

  /**
   * `config`: a nats-server configuration (authorization, TLS…) to start with; `env`: variables
   * it refers to (`$LEDGER_NATS_PASSWORD`); `scheme`: the URL scheme clients use (`tls` for TLS).
   */
  static async start(options: PrivateNatsOptions = {}): Promise<PrivateNatsServer> {
    const server = new PrivateNatsServer(findBinary(), await freePort(), options);
    await server.resume();
    return server;
  }

  get url(): string {
    return `${this.options.scheme ?? 'nats'}://127.0.0.1:${this.port}`;
  }

  async resume(): Promise<void> {
    const args = ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir, '-l', this.logFile];
    if (this.options.config !== undefined) {
      writeFileSync(this.configFile, this.options.config);
      args.push('-c', this.configFile);
    }
    this.process = spawn(this.binary, args, { stdio: 'ignore', env: { ...process.env, ...this.options.env } });
    await waitUntil(() => reachable(this.url), `nats-server on ${this.url}`);
  }

  /**
   * Changes the configuration of the running server (users, passwords) as an operator would:
   * rewrite the file, then SIGHUP (`nats-server --signal reload`). Resolves once the server says
   * it has reloaded. Clients stay connected unless the new configuration refuses them.
   */
  async reload(config: string): Promise<void> {
    if (this.options.config === undefined) throw new Error('reload needs a server started with a config');
    const reloadsBefore = this.reloads();
    this.options.config = config;
    writeFileSync(this.configFile, config);
    this.process!.kill('SIGHUP');
    await waitUntil(async () => this.reloads() > reloadsBefore, 'nats-server to reload its configuration');
  }

  /** How many times the server has refused `user`'s credentials (from its log). */
  authenticationErrors(user: string): number {
    return this.log().split('\n').filter((line) => line.includes(`authentication error - User "${user}"`)).length;
  }

  /** The server's own log so far. */
  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  private reloads(): number {
    return this.log().split('\n').filter((line) => line.includes('Reloaded server configuration')).length;
  }

  private get configFile(): string {
    return join(this.storeDir, 'nats-server.conf');
  }

  private get logFile(): string {
    return join(this.storeDir, 'nats-server.log');
  }

  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    await waitUntil(async () => !(await reachable(this.url)), `nats-server on ${this.url} to stop`);
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

/**
 * The NATS server tests share: NATS_URL (default nats://127.0.0.1:4222) when it answers,
 * otherwise a nats-server started from PATH for this test file. Subjects are global, so tests
 * sharing it assert only on keys of their own.
 */
export async function sharedNats(): Promise<{ url: string; dispose: () => Promise<void> }> {
  const url = process.env.NATS_URL || 'nats://127.0.0.1:4222';
  if (await reachable(url)) return { url, dispose: async () => undefined };
  const server = await PrivateNatsServer.start();
  return { url: server.url, dispose: () => server.dispose() };
}

/**
 * A secret key no other test (here or in another checkout sharing the NATS server) will use:
 * subjects are global, so a test asserts only on keys of its own.
 */
export function uniqueKey(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex').toUpperCase()}`;
}
