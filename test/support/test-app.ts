import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createApp } from '../../src/app.factory';
import { AppConfig, loadConfig } from '../../src/config/configuration';
import type { Engine } from '../../src/storage/sql';
import { FreshDatabase, freshDatabase } from './postgres';

export const ADMIN_TOKEN = 'slt_test-admin-token-0123456789abcdefghijklmnop';

/** A throwaway data dir; removed by `cleanup()`. */
export function tempDataDir(prefix = 'secrets-ledger-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function testConfig(dataDir: string, overrides: Partial<AppConfig> = {}): AppConfig {
  return {
    ...loadConfig({
      SECRETS_DATA_DIR: dataDir,
      SECRETS_ADMIN_TOKEN: ADMIN_TOKEN,
      SECRETS_MASTER_KEYS: `test-1:${randomBytes(32).toString('base64')}`,
      LOG_LEVEL: 'silent',
      PORT: '0',
      // Off unless a test asks: many test apps run at once, and the default port is one port.
      METRICS_PORT: '0',
      // Suites make hundreds of calls from 127.0.0.1 with a few tokens; the limits have tests of
      // their own (test/e2e/rate-limits.e2e-spec.ts), which set them low.
      SECRETS_RATE_LIMIT_PER_MINUTE: '1000000',
      SECRETS_AUTH_FAILURES_PER_MINUTE: '100000',
    }),
    ...overrides,
  };
}

/**
 * The engine test apps run on: SECRETS_TEST_ENGINE=postgres (set by the jest project "postgres")
 * gives each app a fresh PostgreSQL database of its own; unset, the app's SQLite file in its data dir.
 */
export function testEngine(): Engine {
  const engine = process.env.SECRETS_TEST_ENGINE ?? 'sqlite';
  if (engine !== 'sqlite' && engine !== 'postgres') throw new Error(`SECRETS_TEST_ENGINE must be sqlite or postgres, not ${engine}`);
  return engine;
}

/** The engine an app on `config` runs on, as openStorage chooses it. */
export const engineOf = (config: AppConfig): Engine => (config.databaseUrl === undefined ? 'sqlite' : 'postgres');

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  engine: Engine;
  baseUrl: string;
  /** fetch against the app with the admin token unless another is given. */
  request: (path: string, init?: RequestInit & { token?: string | null; json?: unknown }) => Promise<Response>;
  /** Stops the app and keeps its database, to look at what it left behind; `close()` still drops it. */
  stop: () => Promise<void>;
  /** Stops the app and drops the database the builder made for it (PostgreSQL). */
  close: () => Promise<void>;
  /** Stops this app and starts another on the same database, with `overrides`; the new one drops it on close. */
  restart: (overrides?: Partial<AppConfig>) => Promise<TestApp>;
}

/**
 * The one builder e2e tests use: the real app (createApp), listening on a free port. On the
 * PostgreSQL engine, a config without `databaseUrl` gets a fresh database, written into `config`
 * itself so that whoever holds the config sees where the app's data is.
 */
/** Sets `key` to `value` through the admin API: an update when it exists, else an add. */
export async function writeSecret(app: Pick<TestApp, 'request'>, key: string, value: string): Promise<void> {
  const patched = await app.request(`/api/v1/secrets/${key}`, { method: 'PATCH', json: { value } });
  if (patched.status === 404) expect((await app.request('/api/v1/secrets', { method: 'POST', json: { key, value } })).status).toBe(201);
  else expect(patched.status).toBe(200);
}

export async function startTestApp(config: AppConfig): Promise<TestApp> {
  let database: FreshDatabase | undefined;
  if (config.databaseUrl === undefined && testEngine() === 'postgres') {
    database = await freshDatabase(basename(expect.getState().testPath ?? 'e2e').replace(/\..*$/, ''));
    config.databaseUrl = database.url;
  }
  return launch(config, database);
}

async function launch(config: AppConfig, database: FreshDatabase | undefined): Promise<TestApp> {
  let app: NestFastifyApplication;
  try {
    app = await createApp(config);
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await database?.drop();
    throw error;
  }
  const address = app.getHttpServer().address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  const baseUrl = `${config.tls ? 'https' : 'http'}://127.0.0.1:${address.port}`;
  let running = true;
  const stop = async () => {
    if (!running) return;
    running = false;
    await app.close();
  };
  return {
    app,
    config,
    engine: engineOf(config),
    baseUrl,
    request: (path, init = {}) => {
      const { token = ADMIN_TOKEN, json, headers, ...rest } = init;
      const allHeaders: Record<string, string> = { ...(headers as Record<string, string>) };
      if (token !== null) allHeaders.authorization = `Bearer ${token}`;
      if (json !== undefined) allHeaders['content-type'] = 'application/json';
      return fetch(baseUrl + path, { ...rest, headers: allHeaders, body: json !== undefined ? JSON.stringify(json) : rest.body });
    },
    stop,
    close: async () => {
      await stop();
      await database?.drop();
    },
    restart: async (overrides = {}) => {
      await stop();
      return launch({ ...config, ...overrides }, database);
    },
  };
}

/**
 * A suite's app: started on a fresh data dir (and, on PostgreSQL, a fresh database) before the
 * suite's tests (and before its own beforeAll hooks declared later), closed and removed after them.
 */
export function useTestApp(overrides: Partial<AppConfig> = {}): TestApp & { dir: string } {
  const data = tempDataDir();
  const config = testConfig(data.dir, overrides);
  let started: TestApp | undefined;
  const current = (): TestApp => {
    if (!started) throw new Error('the test app is not started yet (use it inside a test or hook)');
    return started;
  };
  beforeAll(async () => {
    started = await startTestApp(config);
  });
  afterAll(async () => {
    await started?.close();
    data.cleanup();
  });
  return {
    config,
    dir: data.dir,
    get app() {
      return current().app;
    },
    get engine() {
      return current().engine;
    },
    get baseUrl() {
      return current().baseUrl;
    },
    request: (path, init) => current().request(path, init),
    stop: () => current().stop(),
    close: () => current().close(),
    restart: async (restartOverrides) => {
      started = await current().restart(restartOverrides);
      return started;
    },
  };
}
