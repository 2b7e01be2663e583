import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { withRawDatabase } from '../support/raw-database';
import { startTestApp, tempDataDir, testConfig } from '../support/test-app';

/**
 * SPEC §2 limits: per token, and per client address for failed authentications; over a limit
 * 429 problem+json with Retry-After and nothing written; a flood is counted in the audit trail
 * with a bound, and what the bound held back reaches the trail when the service stops.
 */
describe('rate limits', () => {
  const PER_MINUTE = 20;
  const FAILURES_PER_MINUTE = 5;
  const FLOOD = 60;

  it('429 with Retry-After past the limit, nothing written, other tokens unaffected, the flood counted with a bound', async () => {
    const data = tempDataDir();
    const base = testConfig(data.dir);
    const t = await startTestApp({ ...base, http: { ...base.http, rateLimitPerMinute: PER_MINUTE, authFailuresPerMinute: FAILURES_PER_MINUTE } });
    const events = async (type: string) =>
      (await withRawDatabase(t.config, (db) => db.all<{ data: string; actor: string }>('SELECT data, actor FROM events WHERE type = ? ORDER BY seq', [type]))).map((row) => ({
        data: JSON.parse(row.data) as { suppressed: number; clientAddress?: string },
        actor: JSON.parse(row.actor) as { id: string },
      }));
    // A recorded refusal counts itself and what was held back before it; a flushed count (no
    // action: it stands for no request of its own) only what was held back.
    const refusalsCounted = (rows: { data: { suppressed: number } }[]) => rows.reduce((sum, row) => sum + row.data.suppressed + ('action' in row.data ? 1 : 0), 0);
    let flooderId = '';
    try {
      const tokens = t.app.get(TokensService);
      const flooder = await tokens.issue({ name: 'flooder', role: 'executor', plugins: null }, SYSTEM_ACTOR);
      flooderId = flooder.id;
      const other = await tokens.issue({ name: 'other', role: 'executor', plugins: null }, SYSTEM_ACTOR);
      await t.request('/api/v1/secrets', { method: 'POST', json: { key: 'LIMITED', value: 'v' } });
      const resolve = (token: string) => t.request('/api/v1/resolve', { method: 'POST', token, json: { plugin: 'p', keys: ['LIMITED'] } });

      const statuses: number[] = [];
      for (let i = 0; i < FLOOD; i++) {
        const res = await resolve(flooder.token);
        statuses.push(res.status);
        if (res.status === 429) {
          expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
          expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        }
        // Another token is served all along.
        if (i % 10 === 0) expect((await resolve(other.token)).status).toBe(200);
      }
      expect(statuses.filter((s) => s === 200)).toHaveLength(PER_MINUTE);
      expect(statuses.filter((s) => s === 429)).toHaveLength(FLOOD - PER_MINUTE);
      // Nothing written for a refused request: one SecretsResolved per answered one.
      const resolved = await events('SecretsResolved');
      expect(resolved.filter((e) => e.actor.id === flooder.id)).toHaveLength(PER_MINUTE);

      // Unauthenticated: 401 up to the address's failure limit, then 429; a valid token still passes.
      const unauthenticated: number[] = [];
      for (let i = 0; i < FLOOD; i++) {
        const res = await t.request('/api/v1/secrets', { token: i % 2 === 0 ? null : `slt_guess-${i}-000000000000000000000000000000` });
        unauthenticated.push(res.status);
        if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
      expect(unauthenticated.slice(0, FAILURES_PER_MINUTE)).toEqual(Array(FAILURES_PER_MINUTE).fill(401));
      expect(unauthenticated.slice(FAILURES_PER_MINUTE)).toEqual(Array(FLOOD - FAILURES_PER_MINUTE).fill(429));
      expect((await resolve(other.token)).status).toBe(200);
      expect((await t.request('/api/v1/secrets')).status).toBe(200);

      // While running: at most 10 of each kind recorded (the bound), the rest only counted.
      expect((await events('AuthenticationFailed')).length).toBeLessThanOrEqual(10);
      expect((await events('RateLimited')).length).toBeLessThanOrEqual(10);
      expect(JSON.stringify(await events('AuthenticationFailed'))).not.toContain('slt_guess');
    } finally {
      // Stopping flushes what the bound held back (the database stays until close()).
      await t.stop();
    }
    try {
      const failures = await events('AuthenticationFailed');
      expect(failures.length).toBeLessThanOrEqual(11);
      expect(failures.every((e) => e.data.clientAddress === '127.0.0.1')).toBe(true);
      expect(refusalsCounted(failures)).toBe(FLOOD);
      const limited = await events('RateLimited');
      expect(limited.length).toBeLessThanOrEqual(11);
      expect(refusalsCounted(limited)).toBe(FLOOD - PER_MINUTE);
      expect(limited.every((e) => e.actor.id === flooderId)).toBe(true);
    } finally {
      await t.close();
      data.cleanup();
    }
  });
});
