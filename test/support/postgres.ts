import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Client } from 'pg';
import { freePort } from './nats';

/**
 * The PostgreSQL server every PostgreSQL test runs on, found in this order:
 * `TEST_DATABASE_URL` when it answers, else the local server at 127.0.0.1:5432 (user `postgres`,
 * trust auth) when it answers (unless TEST_POSTGRES_NO_LOCAL=1), else a throwaway cluster started from Debian's `postgresql`
 * package. With none of these the tests fail with a message saying how to install it: a
 * PostgreSQL test never skips silently.
 */
export const LOCAL_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export type ServerOrigin = 'TEST_DATABASE_URL' | 'local' | 'throwaway';

export interface PostgresServer {
  /** A URL to a database on the server that may create and drop databases. */
  readonly url: string;
  readonly origin: ServerOrigin;
  /** Stops a throwaway cluster and removes its files; a no-op for a server we did not start. */
  stop(): Promise<void>;
}

export interface LocateOptions {
  testDatabaseUrl?: string;
  /** The local server to try second; `null` skips it (to exercise the throwaway path). */
  localUrl?: string | null;
  /** Where to look for initdb and pg_ctl; defaults to PATH, then /usr/lib/postgresql/<version>/bin. */
  binDirs?: string[];
  /** Reuse (and publish) the throwaway cluster of this process, so test files share one. */
  shareCluster?: boolean;
}

/** Whether a server at `url` accepts a connection and answers a query — an open port is not enough. */
export async function answers(url: string, timeoutMs = 2000): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function locatePostgres(options: LocateOptions = {}): Promise<PostgresServer> {
  const tried: string[] = [];
  const attached = (url: string, origin: ServerOrigin): PostgresServer => ({ url, origin, stop: async () => undefined });

  if (options.testDatabaseUrl) {
    if (await answers(options.testDatabaseUrl)) return attached(options.testDatabaseUrl, 'TEST_DATABASE_URL');
    tried.push(`TEST_DATABASE_URL (${redacted(options.testDatabaseUrl)}) did not answer`);
  }
  const localUrl = options.localUrl === undefined ? LOCAL_URL : options.localUrl;
  if (localUrl !== null) {
    if (await answers(localUrl)) return attached(localUrl, 'local');
    tried.push(`${redacted(localUrl)} did not answer`);
  }

  const binDir = findBinDir(options.binDirs ?? defaultBinDirs());
  if (binDir === undefined) {
    tried.push('no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin');
    throw new Error(
      'The PostgreSQL tests need a server: set TEST_DATABASE_URL to one, run one on 127.0.0.1:5432 ' +
        '(user postgres, trust auth), or install Debian\'s package "postgresql" (apt-get install postgresql) ' +
        `so that they start a throwaway cluster of their own. Tried: ${tried.join('; ')}.`,
    );
  }
  if (options.shareCluster) {
    const shared = await sharedCluster();
    if (shared !== undefined) return shared;
  }
  const cluster = await ThrowawayCluster.start(binDir, options.shareCluster ? sharedClusterPointer() : undefined);
  return { url: cluster.url, origin: 'throwaway', stop: () => cluster.stop() };
}

let server: Promise<PostgresServer> | undefined;

/**
 * The server of this test run, located once. Jest gives each test file its own module registry,
 * so a throwaway cluster is published under this process's id for the next test file to reuse.
 */
export function postgresServer(): Promise<PostgresServer> {
  server ??= locatePostgres({
    testDatabaseUrl: process.env.TEST_DATABASE_URL,
    // TEST_POSTGRES_NO_LOCAL=1 runs the tests as a fresh machine would, on a throwaway cluster.
    localUrl: process.env.TEST_POSTGRES_NO_LOCAL === '1' ? null : LOCAL_URL,
    shareCluster: true,
  });
  return server;
}

export interface FreshDatabase {
  readonly name: string;
  /** The database's own URL, for the code under test. */
  readonly url: string;
  /** Drops the database, first ending every connection still open to it. */
  drop(): Promise<void>;
}

export interface FreshDatabaseOptions {
  /**
   * An ICU locale (e.g. 'en') to make the database's default collation a natural-language one,
   * as managed servers' databases often have, instead of the server's default (PostgreSQL 15+).
   */
  icuLocale?: string;
  /** A database to copy (nobody may be connected to it meanwhile): a copy of an app's log to tamper with. */
  copyOf?: string;
}

/** A new, empty database of its own for one test (or one describe block), named after `label`. */
export async function freshDatabase(label: string, options: FreshDatabaseOptions = {}): Promise<FreshDatabase> {
  const { url: serverUrl } = await postgresServer();
  const name = databaseName(label);
  const locale = options.icuLocale;
  if (locale !== undefined && !/^[A-Za-z0-9_-]+$/.test(locale)) throw new Error(`not an ICU locale name: ${locale}`);
  // Identifiers cannot be bound as parameters; `name` is made of [a-z0-9_] only, `locale` checked above.
  const withLocale = locale === undefined ? '' : ` TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE '${locale}' LOCALE 'C.UTF-8'`;
  if (options.copyOf !== undefined && !/^[a-z0-9_]+$/.test(options.copyOf)) throw new Error(`not a test database name: ${options.copyOf}`);
  const template = options.copyOf === undefined ? withLocale : ` TEMPLATE ${options.copyOf}`;
  await onServer(serverUrl, (client) => client.query(`CREATE DATABASE ${name}${template}`));
  return {
    name,
    url: withDatabase(serverUrl, name),
    // FORCE (PostgreSQL 13+) terminates the sessions a test left open, which would block DROP.
    drop: () => onServer(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

export function databaseName(label: string): string {
  const slug = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 32);
  return `sl_test_${slug}_${randomBytes(5).toString('hex')}`;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function onServer<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}

function defaultBinDirs(): string[] {
  const onPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const debian = '/usr/lib/postgresql';
  const versions = existsSync(debian)
    ? readdirSync(debian)
        .filter((name) => /^\d+(\.\d+)?$/.test(name))
        .sort((a, b) => Number(b) - Number(a))
        .map((version) => join(debian, version, 'bin'))
    : [];
  return [...onPath, ...versions];
}

function findBinDir(dirs: string[]): string | undefined {
  return dirs.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
}

/** initdb and pg_ctl refuse to run as root: as root they run as the `postgres` user Debian's package creates. */
function runAsServerUser(): { prefix: string[]; owner?: { uid: number; gid: number } } {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error('Running as root, the PostgreSQL tests start their cluster as the "postgres" user, and there is none: install Debian\'s package "postgresql" (apt-get install postgresql).');
  }
  return { prefix: ['runuser', '-u', 'postgres', '--'], owner: { uid: Number(uid.stdout), gid: Number(gid.stdout) } };
}

function sharedClusterPointer(): string {
  return join(tmpdir(), `secrets-ledger-pg-of-${process.pid}.url`);
}

async function sharedCluster(): Promise<PostgresServer | undefined> {
  const pointer = sharedClusterPointer();
  if (!existsSync(pointer)) return undefined;
  const url = readFileSync(pointer, 'utf8').trim();
  // Its owner (an earlier test file of this process) leaves stopping it to the watchdog.
  return (await answers(url)) ? { url, origin: 'throwaway', stop: async () => undefined } : undefined;
}

/**
 * A cluster of our own in a temporary directory, on a free port, with its unix socket in that
 * directory too (the system's socket dir may not be writable). A detached watchdog stops it and
 * removes its files once this process is gone, however it ends: Jest gives test code a copy of
 * `process` whose 'exit' event never fires.
 */
export class ThrowawayCluster {
  private constructor(
    private readonly binDir: string,
    private readonly dir: string,
    private readonly runAs: string[],
    readonly url: string,
    private readonly watchdog: ChildProcess,
    /** pg_ctl's server options: the same port and socket dir on every start. */
    private readonly serverOptions: string,
  ) {}

  static async start(binDir: string, pointer?: string): Promise<ThrowawayCluster> {
    const { prefix, owner } = runAsServerUser();
    const dir = mkdtempSync(join(tmpdir(), 'secrets-ledger-pg-'));
    if (owner) chownSync(dir, owner.uid, owner.gid);
    const data = join(dir, 'data');
    const port = await freePort();
    const run = (tool: string, args: string[]) => {
      const [command, ...rest] = [...prefix, join(binDir, tool), ...args];
      const result = spawnSync(command, rest, { encoding: 'utf8', cwd: dir, timeout: 60_000 });
      if (result.status !== 0) {
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`${tool} failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr || result.stdout}`);
      }
    };
    // --no-sync: a throwaway cluster need not survive a power cut, and initdb's fsyncs are most of its time.
    run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`;
    run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30', '-o', serverOptions, 'start']);

    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (pointer) writeFileSync(pointer, url);
    const leftovers = [dir, ...(pointer ? [pointer] : [])];
    const watchdog = spawn(
      'sh',
      ['-c', 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -INT "$2" 2>/dev/null; while kill -0 "$2" 2>/dev/null; do sleep 0.2; done; shift 2; rm -rf "$@"', 'watchdog', String(process.pid), String(postmaster), ...leftovers],
      { detached: true, stdio: 'ignore' },
    );
    watchdog.unref();
    return new ThrowawayCluster(binDir, dir, prefix, url, watchdog, serverOptions);
  }

  /** A throwaway cluster of a test's own (never the shared server), to stop and start at will. */
  static async own(): Promise<ThrowawayCluster> {
    const binDir = findBinDir(defaultBinDirs());
    if (binDir === undefined) throw new Error('This test stops and starts a PostgreSQL cluster of its own: install Debian\'s package "postgresql" (initdb and pg_ctl).');
    return ThrowawayCluster.start(binDir);
  }

  /** Stops the server as an operator would (`pg_ctl stop -m fast`: sessions ended), keeping its files. */
  halt(): void {
    this.pgCtl(['-m', 'fast', 'stop']);
  }

  /** Starts the halted server again, on the same port. */
  resume(): void {
    this.pgCtl(['-l', join(this.dir, 'server.log'), '-o', this.serverOptions, 'start']);
  }

  private pgCtl(args: string[]): void {
    const [command, ...rest] = [...this.runAs, join(this.binDir, 'pg_ctl'), '-D', this.dataDir, '-w', '-t', '30', ...args];
    const result = spawnSync(command, rest, { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`pg_ctl ${args.at(-1)} failed: ${result.stderr || result.stdout}`);
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  async stop(): Promise<void> {
    if (!existsSync(this.dataDir)) return;
    const [command, ...rest] = [...this.runAs, join(this.binDir, 'pg_ctl'), '-D', this.dataDir, '-w', '-m', 'fast', 'stop'];
    const result = spawnSync(command, rest, { encoding: 'utf8', timeout: 60_000 });
    if (this.watchdog.pid !== undefined && this.watchdog.exitCode === null) process.kill(this.watchdog.pid, 'SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
    if (result.status !== 0) throw new Error(`pg_ctl stop failed: ${result.stderr || result.stdout}`);
  }
}
