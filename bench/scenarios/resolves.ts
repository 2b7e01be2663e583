import autocannon from 'autocannon';
import { progress } from '../lib/report';
import { ServiceProcess, apiJson } from '../lib/service-process';

export const KEYS_PER_REQUEST = 12;
export const RESOLVE_CONCURRENCY = 32;
const PLUGIN = '@bench/annotation';

/** Twelve secrets (the size of a real annotation plugin's manifest) and an executor token. */
export async function prepareResolves(service: ServiceProcess, adminToken: string): Promise<{ keys: string[]; executorToken: string }> {
  const keys = Array.from({ length: KEYS_PER_REQUEST }, (_, i) => `ANNOTATION_KEY_${i + 1}`);
  for (const key of keys) await apiJson(service.url, adminToken, '/api/v1/secrets', { method: 'POST', json: { key, value: `value-of-${key}` } });
  const { token } = await apiJson<{ token: string }>(service.url, adminToken, '/api/v1/tokens', {
    method: 'POST',
    json: { name: 'bench-executor', role: 'executor', plugins: [PLUGIN] },
  });
  return { keys, executorToken: token };
}

/** 32 concurrent HTTP callers; each resolve is audited (durably) before it is answered. */
export async function measureHttpResolves(service: ServiceProcess, executorToken: string, keys: string[], seconds: number) {
  progress(`resolves/http: ${RESOLVE_CONCURRENCY} connections, ${keys.length} keys each, ${seconds}s`);
  const result = await autocannon({
    url: `${service.url}/api/v1/resolve`,
    method: 'POST',
    connections: RESOLVE_CONCURRENCY,
    duration: seconds,
    headers: { authorization: `Bearer ${executorToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ plugin: PLUGIN, keys }),
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`resolves/http: ${result.non2xx} non-2xx, ${result.errors} errors`);
  const perS = result['2xx'] / (result.duration || seconds);
  progress(`resolves/http: ${result['2xx']} → ${perS.toFixed(0)}/s`);
  return perS;
}
