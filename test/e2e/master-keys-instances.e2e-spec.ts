import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { MasterKeySpec } from '../../src/config/configuration';
import { POSTGRES_TYPES } from '../../src/storage/postgres/open-postgres';
import { runCliToEnd, startServe, stop } from '../support/cli';
import { call as callService } from '../support/ledger-load';
import { sharedNats } from '../support/nats';
import { FreshDatabase, freshDatabase } from '../support/postgres';
import { tempDataDir } from '../support/test-app';
import { signingKeyFile } from '../support/signing-key';

const ADMIN_TOKEN = 'slt_master-keys-admin-token-0123456789abcdefghij';
type Service = Awaited<ReturnType<typeof startServe>>;

const masterKey = (kid: string): MasterKeySpec => ({ kid, key: randomBytes(32) });
const envKeys = (keys: MasterKeySpec[]) => keys.map((k) => `${k.kid}:${k.key.toString('base64')}`).join(',');

// Some ten service starts and stops and three CLI runs, on a machine shared with other test runs.
jest.setTimeout(240_000);

/**
 * docs/MASTER-KEYS.md's rolling procedure with two `serve` processes on one PostgreSQL database,
 * values written through both instances between every step, and every value resolved through
 * every running instance after every step: an instance that restarted, and one that did not.
 */
describe('master-key rotation across two instances on PostgreSQL (docs/MASTER-KEYS.md)', () => {
  const [k1, k2] = [masterKey('k1'), masterKey('k2')];
  const dirs = [tempDataDir(), tempDataDir(), tempDataDir(), tempDataDir()];
  const signingKey = signingKeyFile(dirs[0].dir);
  const prefix = `mk${randomBytes(3).toString('hex')}`;
  let database: FreshDatabase;
  let nats: Awaited<ReturnType<typeof sharedNats>>;
  let sql: Client;
  const services: (Service | undefined)[] = [];
  let executor = '';
  /** Every value written so far, by key. */
  const written: Record<string, string> = {};
  let writes = 0;

  const envFor = (dir: number, keys: MasterKeySpec[]) => ({
    DATABASE_URL: database.url,
    SECRETS_DATA_DIR: dirs[dir].dir,
    SECRETS_MASTER_KEYS: envKeys(keys),
    SECRETS_SIGNING_KEY_FILE: signingKey,
    SECRETS_ADMIN_TOKEN: ADMIN_TOKEN,
    NATS_URL: nats.url,
    SECRETS_NATS_PREFIX: prefix,
  });
  /** A request to `service`; a refused connection fails the test (call() turns it into undefined). */
  const call = async (service: Service, path: string, init: { method?: string; json?: unknown; token?: string } = {}) => {
    const res = await callService(service.url, init.token ?? ADMIN_TOKEN, path, init);
    if (!res) throw new Error(`${service.url} did not answer ${path}`);
    return res;
  };
  const restart = async (i: number, keys: MasterKeySpec[]) => {
    if (services[i]) await stop(services[i]!.child);
    services[i] = await startServe(envFor(i, keys));
  };
  const running = () => services.filter((s): s is Service => s !== undefined);
  const kidsInUse = async () => (await sql.query<{ kid: string }>('SELECT DISTINCT kid FROM data_keys ORDER BY kid')).rows.map((row) => row.kid);

  /** Two new values and one updated value through every running instance. */
  const writeThroughEach = async () => {
    for (const service of running()) {
      for (let n = 0; n < 2; n++) {
        const key = `MK_${writes++}`;
        written[key] = `value-${randomBytes(6).toString('hex')}`;
        expect((await call(service, '/api/v1/secrets', { method: 'POST', json: { key, value: written[key] } })).status).toBe(201);
      }
      const updated = Object.keys(written)[writes % Object.keys(written).length];
      written[updated] = `updated-${randomBytes(6).toString('hex')}`;
      expect((await call(service, `/api/v1/secrets/${updated}`, { method: 'PATCH', json: { value: written[updated] } })).status).toBe(200);
    }
  };
  /** Every value written so far, resolved through every running instance: none unreadable, each the latest. */
  const expectEveryValueOnEach = async () => {
    const keys = Object.keys(written);
    for (const service of running()) {
      const res = await call(service, '/api/v1/resolve', { method: 'POST', token: executor, json: { plugin: 'check', keys } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { secrets: Record<string, string>; missing: string[]; unreadable: string[] };
      expect({ instance: service.url, missing: body.missing, unreadable: body.unreadable }).toEqual({ instance: service.url, missing: [], unreadable: [] });
      expect(body.secrets).toEqual(written);
    }
  };
  const step = async (change: () => Promise<void>) => {
    await change();
    await writeThroughEach();
    await expectEveryValueOnEach();
  };
  const rotateWithCli = (keys: MasterKeySpec[]) => runCliToEnd(['rotate-master-key'], { ...envFor(0, keys), SECRETS_DATA_DIR: dirs[3].dir }, 60_000);

  beforeAll(async () => {
    database = await freshDatabase('master-keys');
    nats = await sharedNats();
    sql = new Client({ connectionString: database.url, types: POSTGRES_TYPES });
    await sql.connect();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(running().map((s) => stop(s.child)));
    await sql?.end();
    await nats?.dispose();
    await database?.drop();
    dirs.forEach((dir) => dir.cleanup());
  });

  it('holds, then activates, then rotates, then retires: no value unreadable on either instance at any step; a rotation to a key some instance lacks is refused, naming it', async () => {
    // Both instances with k1 alone.
    await restart(0, [k1]);
    await restart(1, [k1]);
    const issued = (await (await call(services[0]!, '/api/v1/tokens', { method: 'POST', json: { name: 'mk-exec', role: 'executor' } })).json()) as { token: string };
    executor = issued.token;
    await step(async () => undefined);

    // What the README once said: put k2 first and rotate. Refused while the instances lack k2.
    const refused = await rotateWithCli([k2, k1]);
    expect(refused.status).not.toBe(0);
    for (const service of running()) expect(refused.stderr).toContain(`pid ${service.child.pid})`);
    expect(refused.stderr).toMatch(/does not hold master key k2/);
    expect(refused.stdout).not.toMatch(/retired/);
    expect(await kidsInUse()).toEqual(['k1']);
    await step(async () => undefined);

    // 1. Every instance holds k2 but still wraps with k1 (k1 first).
    await step(() => restart(0, [k1, k2]));

    // An instance that makes k2 active while the other lacks it refuses to wrap with it (503,
    // readiness down), and its rotation is refused (409): both name the instance that lacks it.
    const early = await startServe(envFor(2, [k2, k1]));
    try {
      const lacksK2 = `pid ${services[1]!.child.pid})`;
      const ready = await fetch(`${early.url}/health/ready`);
      expect(ready.status).toBe(503);
      const readiness = (await ready.json()) as { details: { masterKeys: { status: string; reason: string } } };
      expect(readiness.details.masterKeys.status).toBe('down');
      expect(readiness.details.masterKeys.reason).toContain(lacksK2);
      const write = await call(early, '/api/v1/secrets', { method: 'POST', json: { key: 'MK_EARLY', value: 'never-stored' } });
      expect(write.status).toBe(503);
      expect(write.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(write.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await write.json()) as { detail: string }).detail).toContain(lacksK2);
      const rotation = await call(early, '/api/v1/master-keys/rotate', { method: 'POST', json: { activeKid: 'k2' } });
      expect(rotation.status).toBe(409);
      expect(rotation.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await rotation.json()) as { detail: string }).detail).toContain(lacksK2);
    } finally {
      await stop(early.child);
    }
    expect((await sql.query("SELECT 1 FROM secrets WHERE key = 'MK_EARLY'")).rows).toEqual([]);
    expect(await kidsInUse()).toEqual(['k1']);
    await step(async () => undefined);
    await step(() => restart(1, [k1, k2]));

    // 2. Every instance wraps with k2 (k2 first): values written through either open on both.
    await step(() => restart(0, [k2, k1]));
    expect(await kidsInUse()).toEqual(['k1', 'k2']);
    // A rotation now (every instance holds k2) rewraps; k1 is not retirable while an instance wraps with it.
    const early2 = await call(services[0]!, '/api/v1/master-keys/rotate', { method: 'POST', json: { activeKid: 'k2' } });
    expect(early2.status).toBe(200);
    expect(((await early2.json()) as { retirable: string[] }).retirable).toEqual([]);
    await step(async () => undefined);
    expect(await kidsInUse()).toEqual(['k1', 'k2']); // the instance still on k1 wrapped new values with it
    await step(() => restart(1, [k2, k1]));

    // 3. Rotate once every instance wraps with k2: every data key under k2, and now k1 is retirable.
    const rotated = await rotateWithCli([k2, k1]);
    expect({ status: rotated.status, stderr: rotated.stderr }).toMatchObject({ status: 0 });
    expect(rotated.stdout).toMatch(/rewrapped [1-9]\d* data keys from \[k1\] to k2/);
    expect(rotated.stdout).toMatch(/no data key uses k1 any more: it may be retired/);
    expect(await kidsInUse()).toEqual(['k2']);
    await step(async () => undefined);

    // 4. Retire k1, one instance at a time.
    await step(() => restart(0, [k2]));
    await step(() => restart(1, [k2]));
    expect(await kidsInUse()).toEqual(['k2']);

    // An instance started with the retired key alone refuses to start, naming the key it lacks.
    const stale = await runCliToEnd(['serve'], { ...envFor(3, [k1]), PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'warn' }, 60_000);
    expect(stale.status).not.toBe(0);
    expect(stale.stdout).not.toMatch(/listening/);
    expect(stale.stderr).toMatch(/refusing to start: stored values are wrapped by master key id k2, which SECRETS_MASTER_KEYS lacks/);
    expect(await (await call(services[1]!, '/api/v1/audit/verify')).json()).toMatchObject({ ok: true });
  });
});
