import { randomBytes } from 'node:crypto';
import { startServe, stop } from '../support/cli';
import { expectEventually } from '../support/expect-eventually';
import { freePort, sharedNats, uniqueKey } from '../support/nats';
import { FreshDatabase, freshDatabase } from '../support/postgres';
import { tempDataDir } from '../support/test-app';
import { signingKeyFile } from '../support/signing-key';

const ADMIN_TOKEN = 'slt_standby-lag-admin-token-0123456789abcdefgh';

/**
 * `notifications.lag` (readiness) and `secrets_ledger_notification_lag_events` (metrics) are
 * the shared log's lag on every instance: an alert on them must not page on a standby. Two
 * `serve` processes on one PostgreSQL database: only one publishes (SPEC §8).
 */
describe('notification lag on an instance that does not publish', () => {
  const dirs = [tempDataDir(), tempDataDir()];
  const signingKey = signingKeyFile(dirs[0].dir);
  const masterKeys = `lag-1:${randomBytes(32).toString('base64')}`;
  const prefix = `lag${randomBytes(3).toString('hex')}`;
  let database: FreshDatabase;
  let nats: Awaited<ReturnType<typeof sharedNats>>;
  let services: { url: string; metricsUrl: string; child: Awaited<ReturnType<typeof startServe>>['child'] }[] = [];

  const start = async (i: number) => {
    const metricsPort = await freePort();
    const service = await startServe({
      DATABASE_URL: database.url,
      SECRETS_DATA_DIR: dirs[i].dir,
      SECRETS_MASTER_KEYS: masterKeys,
      SECRETS_SIGNING_KEY_FILE: signingKey,
      SECRETS_ADMIN_TOKEN: ADMIN_TOKEN,
      NATS_URL: nats.url,
      SECRETS_NATS_PREFIX: prefix,
      METRICS_PORT: String(metricsPort),
    });
    return { url: service.url, child: service.child, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
  };
  const notifications = async (url: string) =>
    ((await (await fetch(`${url}/health/ready`)).json()) as { details: { notifications: { lag: number; publishing: boolean; publishedSeq: number } } }).details.notifications;
  const lagGauge = async (metricsUrl: string) => Number(/^secrets_ledger_notification_lag_events (\d+)$/m.exec(await (await fetch(metricsUrl)).text())?.[1]);
  const write = (url: string, key: string, value: string, method = 'POST') =>
    fetch(method === 'POST' ? `${url}/api/v1/secrets` : `${url}/api/v1/secrets/${key}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(method === 'POST' ? { key, value } : { value }),
    });

  beforeAll(async () => {
    database = await freshDatabase('standby_lag');
    nats = await sharedNats();
    services = await Promise.all([start(0), start(1)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => stop(s.child)));
    await nats?.dispose();
    await database?.drop();
    dirs.forEach((dir) => dir.cleanup());
  });

  it('after the publisher has caught up, the standby reports lag 0 too (readiness and the metrics gauge)', async () => {
    const roles = await expectEventually(async () => {
      const publishing = await Promise.all(services.map(async (s) => (await notifications(s.url)).publishing));
      expect(publishing.filter(Boolean)).toHaveLength(1);
      return publishing;
    }, 10_000);
    const publisher = services[roles.indexOf(true)];
    const standby = services[roles.indexOf(false)];

    // Changes written through both, most through the standby: its own commits are in the lag it reports.
    const keys = [uniqueKey('STANDBY_LAG'), uniqueKey('STANDBY_LAG')];
    for (const [i, key] of keys.entries()) expect((await write(standby.url, key, `v0-${i}`)).status).toBe(201);
    for (let round = 1; round <= 3; round++) {
      for (const [i, key] of keys.entries()) expect((await write(round === 2 ? publisher.url : standby.url, key, `v${round}-${i}`, 'PATCH')).status).toBe(200);
    }

    await expectEventually(async () => expect((await notifications(publisher.url)).lag).toBe(0), 15_000);
    // The publisher stores its position within a second; the standby reads that one.
    await expectEventually(async () => {
      const [atPublisher, atStandby] = await Promise.all([notifications(publisher.url), notifications(standby.url)]);
      expect(atStandby).toMatchObject({ lag: 0, publishing: false, publishedSeq: atPublisher.publishedSeq });
      expect(await lagGauge(standby.metricsUrl)).toBe(0);
      expect(await lagGauge(publisher.metricsUrl)).toBe(0);
    }, 15_000);
    // Still 0 a while later: the standby's lag does not grow on its own.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await notifications(standby.url)).lag).toBe(0);
  });
});
