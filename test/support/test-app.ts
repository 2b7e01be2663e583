import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.factory';
import { AppConfig, loadConfig } from '../../src/config/configuration';

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
    }),
    ...overrides,
  };
}

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  baseUrl: string;
  /** fetch against the app with the admin token unless another is given. */
  request: (path: string, init?: RequestInit & { token?: string | null; json?: unknown }) => Promise<Response>;
  close: () => Promise<void>;
}

/** The one builder e2e tests use: the real app (createApp), listening on a free port. */
export async function startTestApp(config: AppConfig): Promise<TestApp> {
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  const baseUrl = `${config.tls ? 'https' : 'http'}://127.0.0.1:${address.port}`;
  return {
    app,
    config,
    baseUrl,
    request: (path, init = {}) => {
      const { token = ADMIN_TOKEN, json, headers, ...rest } = init;
      const allHeaders: Record<string, string> = { ...(headers as Record<string, string>) };
      if (token !== null) allHeaders.authorization = `Bearer ${token}`;
      if (json !== undefined) allHeaders['content-type'] = 'application/json';
      return fetch(baseUrl + path, { ...rest, headers: allHeaders, body: json !== undefined ? JSON.stringify(json) : rest.body });
    },
    close: () => app.close(),
  };
}

/**
 * A suite's app: started on a fresh data dir before the suite's tests (and before its own
 * beforeAll hooks declared later), closed and removed after them.
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
    get baseUrl() {
      return current().baseUrl;
    },
    request: (path, init) => current().request(path, init),
    close: () => current().close(),
  };
}
