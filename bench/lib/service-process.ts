import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const CLI = join(__dirname, '../../../dist/cli.js');

export interface ServiceProcess {
  url: string;
  pid: number;
  /** Resident set size of the service process, in MB (from /proc). */
  rssMb(): number;
  stop(): Promise<void>;
}

/** The service exactly as operators run it (`secrets-ledger serve`), in its own process. */
export function startService(env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<ServiceProcess> {
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, CLI, 'serve'], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const match = /secrets-ledger listening on (\S+)/.exec(stdout);
      if (!match) return;
      resolve({
        url: match[1],
        pid: child.pid!,
        rssMb: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.removeAllListeners('exit');
            child.on('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
    child.on('exit', (code) => reject(new Error(`service exited with ${code}: ${stderr}`)));
  });
}

export async function api(url: string, token: string, path: string, init: { method?: string; json?: unknown } = {}): Promise<Response> {
  return fetch(url + path, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
  });
}

export async function apiJson<T>(url: string, token: string, path: string, init: { method?: string; json?: unknown } = {}): Promise<T> {
  const res = await api(url, token, path, init);
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * Waits until a service started on an existing log has finished its start-up work: the relay has
 * published the backlog (lag 0) and the chain monitor has verified up to the head. Steady-state
 * figures are measured after this, not while a first start replays 100k events to NATS.
 */
export async function waitUntilSettled(service: ServiceProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = (await (await fetch(`${service.url}/health/ready`)).json()) as {
      details?: { notifications?: { lag?: number }; auditChain?: { verifiedSeq?: number; head?: number } };
    };
    const lag = ready.details?.notifications?.lag;
    const chain = ready.details?.auditChain;
    if (lag === 0 && chain?.verifiedSeq !== undefined && chain.verifiedSeq >= (chain.head ?? Infinity)) return;
    if (Date.now() > deadline) throw new Error(`service did not settle: ${JSON.stringify(ready.details)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
