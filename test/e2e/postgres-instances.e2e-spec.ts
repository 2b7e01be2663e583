import { connect, NatsConnection } from 'nats';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { SecretsClient } from '../../src/client';
import { POSTGRES_TYPES } from '../../src/storage/postgres/open-postgres';
import { runCliToEnd, startServe, stop } from '../support/cli';
import { expectEventually } from '../support/expect-eventually';
import { sharedNats } from '../support/nats';
import { FreshDatabase, freshDatabase } from '../support/postgres';
import { tempDataDir } from '../support/test-app';
import { signingKeyFile } from '../support/signing-key';

const ADMIN_TOKEN = 'slt_instances-admin-token-0123456789abcdefghij';
type Service = Awaited<ReturnType<typeof startServe>>;

/**
 * SPEC §8 with several instances: two `serve` processes on one PostgreSQL database and one
 * NATS server, each its own data dir and port, as behind a load balancer.
 */
describe('two service instances on one PostgreSQL database', () => {
  const dirs = [tempDataDir(), tempDataDir()];
  const masterKeys = `ha-1:${randomBytes(32).toString('base64')}`;
  const signingKey = signingKeyFile(dirs[0].dir);
  const prefix = `ha${randomBytes(3).toString('hex')}`;
  let database: FreshDatabase;
  let nats: Awaited<ReturnType<typeof sharedNats>>;
  let services: Service[] = [];
  let subscriber: NatsConnection;
  let sql: Client;

  const start = (i: number) =>
    startServe({
      DATABASE_URL: database.url,
      SECRETS_DATA_DIR: dirs[i].dir,
      SECRETS_MASTER_KEYS: masterKeys,
      SECRETS_SIGNING_KEY_FILE: signingKey,
      SECRETS_ADMIN_TOKEN: ADMIN_TOKEN,
      NATS_URL: nats.url,
      SECRETS_NATS_PREFIX: prefix,
    });
  const call = (service: Service, path: string, init: { method?: string; json?: unknown; token?: string } = {}) =>
    fetch(`${service.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${init.token ?? ADMIN_TOKEN}`, ...(init.json === undefined ? {} : { 'content-type': 'application/json' }) },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
    });
  const publisherIndex = async (): Promise<number[]> => {
    // A killed instance answers nothing: it publishes nothing either.
    const publishing = async (s: Service) =>
      ((await (await fetch(`${s.url}/health/ready`)).json()) as { details: { notifications?: { publishing?: boolean } } }).details.notifications?.publishing === true;
    const flags = await Promise.all(services.map((s) => publishing(s).catch(() => false)));
    return flags.flatMap((flag, i) => (flag ? [i] : []));
  };
  const seqsInLog = async () => (await sql.query<{ seq: number }>('SELECT seq FROM events ORDER BY seq')).rows.map((row) => row.seq);

  beforeAll(async () => {
    database = await freshDatabase('instances');
    nats = await sharedNats();
    // Started together: the migrations and the first admin token happen once.
    services = await Promise.all([start(0), start(1)]);
    subscriber = await connect({ servers: nats.url });
    sql = new Client({ connectionString: database.url, types: POSTGRES_TYPES });
    await sql.connect();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => stop(s.child)));
    await subscriber?.close();
    await sql?.end();
    await nats?.dispose();
    await database?.drop();
    dirs.forEach((dir) => dir.cleanup());
  });

  it('started together: one migration, one bootstrap admin token, and exactly one publishing relay', async () => {
    const tokens = await sql.query("SELECT id FROM tokens WHERE name = 'bootstrap-admin'");
    expect(tokens.rows).toHaveLength(1);
    await expectEventually(async () => expect(await publisherIndex()).toHaveLength(1), 5_000);
  });

  it('concurrent writes through both: every acknowledged write is there, seq has no gap, the chain verifies, and no reader sees seq N+1 before N', async () => {
    let gapsSeen = 0;
    let reading = true;
    const reader = (async () => {
      const other = new Client({ connectionString: database.url, types: POSTGRES_TYPES });
      await other.connect();
      try {
        while (reading) {
          const { rows } = await other.query<{ seq: number }>('SELECT seq FROM events ORDER BY seq');
          if (rows.some((row, i) => row.seq !== i + 1)) gapsSeen += 1;
        }
      } finally {
        await other.end();
      }
    })();
    const keys = Array.from({ length: 120 }, (_, i) => `HA_WRITE_${i}`);
    const answers = await Promise.all(keys.map((key, i) => call(services[i % 2], '/api/v1/secrets', { method: 'POST', json: { key, value: `v-${i}` } })));
    reading = false;
    await reader;
    expect(answers.map((a) => a.status)).toEqual(keys.map(() => 201));
    const listed = new Set<string>();
    for (let after = ''; ; ) {
      const page = (await (await call(services[1], `/api/v1/secrets?limit=100${after ? `&after=${after}` : ''}`)).json()) as { items: { key: string }[]; next: string | null };
      page.items.forEach((item) => listed.add(item.key));
      if (!page.next) break;
      after = page.next;
    }
    expect(keys.filter((key) => !listed.has(key))).toEqual([]);
    const seqs = await seqsInLog();
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(gapsSeen).toBe(0);
    for (const service of services) {
      expect(await (await call(service, '/api/v1/audit/verify')).json()).toMatchObject({ ok: true, head: { seq: seqs.length } });
    }
  });

  it('an executor hydrated through one instance sees a change written through the other', async () => {
    const issued = (await (await call(services[0], '/api/v1/tokens', { method: 'POST', json: { name: 'ha-exec', role: 'executor', plugins: null } })).json()) as { token: string };
    await call(services[0], '/api/v1/secrets', { method: 'POST', json: { key: 'HA_SHARED', value: 'first' } });
    const client = await SecretsClient.connect({ url: services[0].url, nats: { url: nats.url, prefix }, token: issued.token, env: {} });
    try {
      const ctx = await client.hydrate({ name: 'ha-plugin', secrets: ['HA_SHARED'] });
      expect(ctx.secrets.get('HA_SHARED')).toBe('first');
      const written = Date.now();
      expect((await call(services[1], '/api/v1/secrets/HA_SHARED', { method: 'PATCH', json: { value: 'second' } })).status).toBe(200);
      await expectEventually(() => expect(ctx.secrets.get('HA_SHARED')).toBe('second'), 5_000);
      expect(Date.now() - written).toBeLessThan(5_000);
    } finally {
      await client.close();
    }
  });

  it('a token revoked through one instance is refused by the other on its next request', async () => {
    const issued = (await (await call(services[0], '/api/v1/tokens', { method: 'POST', json: { name: 'ha-auditor', role: 'auditor', plugins: null } })).json()) as { id: string; token: string };
    expect((await call(services[1], '/api/v1/audit/head', { token: issued.token })).status).toBe(200);
    expect((await call(services[0], `/api/v1/tokens/${issued.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await call(services[1], '/api/v1/audit/head', { token: issued.token })).status).toBe(401);
  });

  it('the maintenance commands work on the shared database while both instances serve: rebuild-read-model, rotate-master-key', async () => {
    const env = { DATABASE_URL: database.url, SECRETS_MASTER_KEYS: masterKeys, SECRETS_SIGNING_KEY_FILE: signingKey, SECRETS_DATA_DIR: dirs[0].dir };
    expect((await call(services[0], '/api/v1/secrets', { method: 'POST', json: { key: 'HA_MAINTENANCE', value: 'm' } })).status).toBe(201);
    const before = (await sql.query('SELECT * FROM secrets ORDER BY key')).rows;
    expect(before.length).toBeGreaterThan(0);
    const rebuilt = await runCliToEnd(['rebuild-read-model'], env);
    expect({ status: rebuilt.status, stderr: rebuilt.stderr }).toMatchObject({ status: 0 });
    expect(rebuilt.stdout).toMatch(new RegExp(`rebuilt the read model from \\d+ events: ${before.length} keys`));
    expect((await sql.query('SELECT * FROM secrets ORDER BY key')).rows).toEqual(before);
    // Every data key is already under the only (active) key: nothing to rewrap, and it says so.
    const rotated = await runCliToEnd(['rotate-master-key'], env);
    expect({ status: rotated.status, stderr: rotated.stderr }).toMatchObject({ status: 0 });
    expect(rotated.stdout).toMatch(/rewrapped 0 data keys/);
    expect(await (await call(services[1], '/api/v1/audit/verify')).json()).toMatchObject({ ok: true });
  }, 60_000);

  /** Writes through `service` until `writing()` is false or the service is gone; the keys acknowledged. */
  const writeLoad = (service: Service, name: string, writing: () => boolean, acknowledged: string[]) =>
    (async () => {
      for (let i = 0; writing(); i++) {
        const key = `HA_${name}_${i}`;
        const answer = await call(service, '/api/v1/secrets', { method: 'POST', json: { key, value: `k-${i}` } }).catch(() => undefined);
        if (!answer) return; // its instance is gone
        if (answer.status === 201) acknowledged.push(key);
      }
    })();
  const storedKeys = async (prefix: string) => new Set((await sql.query<{ key: string }>('SELECT key FROM secrets WHERE key LIKE $1', [`${prefix}%`])).rows.map((row) => row.key));

  it('SIGKILL of the instance that does not publish, under write load through both: no acknowledged write lost; it starts again on the same database', async () => {
    const [publisher] = await publisherIndex();
    const victim = 1 - publisher;
    const acknowledged: string[] = [];
    let writing = true;
    const writers = [writeLoad(services[0], 'VICTIM_A', () => writing, acknowledged), writeLoad(services[1], 'VICTIM_B', () => writing, acknowledged)];
    await new Promise((resolve) => setTimeout(resolve, 700));
    services[victim].child.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 500));
    writing = false;
    await Promise.all(writers);
    const stored = await storedKeys('HA_VICTIM_');
    expect({ acknowledged: acknowledged.length > 0 }).toEqual({ acknowledged: true });
    expect(acknowledged.filter((key) => !stored.has(key))).toEqual([]);
    expect(await (await call(services[publisher], '/api/v1/audit/verify')).json()).toMatchObject({ ok: true });
    services[victim] = await start(victim);
    expect((await call(services[victim], '/api/v1/secrets/' + acknowledged[0])).status).toBe(200);
  }, 60_000);

  it('SIGKILL of the publishing instance under write load: no acknowledged write lost, no notification lost, another relay publishes within 5 s', async () => {
    const [publisher] = await publisherIndex();
    const survivor = 1 - publisher;
    const heard: { revision: number; at: number }[] = [];
    const subscription = subscriber.subscribe(`${prefix}.changed.>`, {
      callback: (_, message) => heard.push({ revision: (message.json() as { revision: number }).revision, at: Date.now() }),
    });
    await subscriber.flush();
    const revisionNow = async () => (await sql.query<{ value: number }>("SELECT value FROM ledger_counters WHERE name = 'revision'")).rows[0]?.value ?? 0;
    const firstRevision = await revisionNow();

    const acknowledged: string[] = [];
    let writing = true;
    const writers = [writeLoad(services[0], 'KILL_A', () => writing, acknowledged), writeLoad(services[1], 'KILL_B', () => writing, acknowledged)];
    await new Promise((resolve) => setTimeout(resolve, 500));
    const killedAt = Date.now();
    services[publisher].child.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    writing = false;
    await Promise.all(writers);
    const lastRevision = await revisionNow();

    // Every acknowledged write is in the log, whichever instance took it.
    const stored = await storedKeys('HA_KILL_');
    expect({ acknowledged: acknowledged.length > 0 }).toEqual({ acknowledged: true });
    expect(acknowledged.filter((key) => !stored.has(key))).toEqual([]);
    // The survivor took over, and every revision since the test began was published (duplicates allowed).
    await expectEventually(async () => expect(await publisherIndex()).toEqual([survivor]), 5_000);
    const expected = Array.from({ length: lastRevision - firstRevision }, (_, i) => firstRevision + 1 + i);
    expect({ revisionsWritten: expected.length > 0 }).toEqual({ revisionsWritten: true });
    await expectEventually(() => expect(expected.filter((revision) => !heard.some((h) => h.revision === revision))).toEqual([]), 10_000);
    // What arrives once the dead instance's last bytes are through comes from the new publisher.
    const firstFromSuccessor = heard.find((h) => h.at > killedAt + 100);
    expect(firstFromSuccessor).toBeDefined();
    console.log(`relay takeover: first notification ${firstFromSuccessor!.at - killedAt} ms after the SIGKILL`);
    expect(firstFromSuccessor!.at - killedAt).toBeLessThan(5_000);
    subscription.unsubscribe();
  }, 60_000);
});
