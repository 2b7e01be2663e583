import { readFileSync } from 'node:fs';
import { residentBytes, startServe, stop } from '../../test/support/cli';

export interface ServiceProcess {
  url: string;
  pid: number;
  /** Resident set size of the service process, in MB (from /proc). */
  rssMb(): number;
  /** CPU seconds the service process has used so far (user + system, from /proc). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** The service exactly as operators run it (`secrets-ledger serve`), in its own process. */
export async function startService(env: NodeJS.ProcessEnv, nodeArgs: string[] = [], cli?: string): Promise<ServiceProcess> {
  // The scenarios measure throughput with one token each, far beyond the per-token rate limit
  // a deployment wants (SPEC §2); they lift it unless a scenario sets its own.
  const { child, url } = await startServe({ SECRETS_RATE_LIMIT_PER_MINUTE: '1000000000', ...env }, nodeArgs, cli);
  return { url, pid: child.pid!, rssMb: () => residentBytes(child.pid!) / (1024 * 1024), cpuSeconds: () => cpuSecondsOf(child.pid!), stop: () => stop(child) };
}

/** utime + stime of a process, in seconds (Linux: /proc/<pid>/stat, in clock ticks of 1/100 s). */
export function cpuSecondsOf(pid: number): number {
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
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
