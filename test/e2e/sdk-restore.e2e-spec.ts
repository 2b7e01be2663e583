import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SecretsClient } from '../../src/client';
import { startServe, stop } from '../support/cli';
import { openDatabase } from '../support/data-dir';
import { expectEventually } from '../support/expect-eventually';
import { call } from '../support/ledger-load';
import { freePort, sharedNats, uniqueKey } from '../support/nats';
import { ADMIN_TOKEN, tempDataDir } from '../support/test-app';

jest.setTimeout(60_000);

/**
 * OPERATING.md, Backups: a restore puts the log back as it was, so the service's revisions fall
 * below what running executors have read. The SDK must follow the restored log — its values, and
 * the changes made on it from then on — not hold the lost history's values until the restored
 * log's revisions pass the old ones. `serve` as operators run it, restored the documented way
 * (an online SQLite backup, the service stopped, the file put back), on both transports.
 */
describe.each(['stream', 'nats'] as const)('the SDK across a restore from a backup (%s)', (transport) => {
  it('takes the restored values, then every change made on the restored log, and says the log went back', async () => {
    const data = tempDataDir('secrets-ledger-restore-');
    const nats = await sharedNats();
    const port = await freePort();
    const env = { SECRETS_DATA_DIR: data.dir, SECRETS_ADMIN_TOKEN: ADMIN_TOKEN, PORT: String(port), NATS_URL: nats.url };
    let server = await startServe(env);
    const logs: string[] = [];
    let client: SecretsClient | undefined;
    const key = uniqueKey('RESTORED');
    const backup = `${data.dir}.backup.db`;
    const write = async (value: string) => {
      const patched = await call(server.url, ADMIN_TOKEN, `/api/v1/secrets/${key}`, { method: 'PATCH', json: { value } });
      if (patched?.status === 404) expect((await call(server.url, ADMIN_TOKEN, '/api/v1/secrets', { method: 'POST', json: { key, value } }))?.status).toBe(201);
      else expect(patched?.status).toBe(200);
    };
    try {
      const issued = await call(server.url, ADMIN_TOKEN, '/api/v1/tokens', { method: 'POST', json: { name: 'restore', role: 'executor' } });
      const { token } = (await issued!.json()) as { token: string };
      await write('in-the-backup');
      const database = join(data.dir, 'secrets.db');
      const live = openDatabase(database);
      await live.backup(backup);
      live.close();

      client = await SecretsClient.connect({
        url: server.url,
        token,
        env: {},
        resyncIntervalMs: 3_600_000,
        log: (level, message) => logs.push(`${level}: ${message}`),
        ...(transport === 'nats' ? { nats: { url: nats.url } } : {}),
      });
      const ctx = await client.hydrate({ name: 'restore', secrets: [key] });
      await expectEventually(() => expect(ctx.live).toBe(true));
      // Written after the backup: the restore loses these.
      for (let n = 0; n < 3; n++) await write(`lost-${n}`);
      await expectEventually(() => expect(ctx.secrets.get(key)).toBe('lost-2'));
      const held = ctx.revision;

      await stop(server.child);
      for (const suffix of ['-wal', '-shm']) rmSync(database + suffix, { force: true });
      renameSync(backup, database);
      server = await startServe(env);

      // The client reconnects and resyncs: the restored log's value, at a revision below the one held.
      await expectEventually(() => expect(ctx.secrets.get(key)).toBe('in-the-backup'), 15_000);
      expect(ctx.revision).toBeLessThan(held);
      await write('after-the-restore');
      await expectEventually(() => expect(ctx.secrets.get(key)).toBe('after-the-restore'), 5_000);
      expect(logs.some((line) => line.startsWith('warn: ') && line.includes('its log went back'))).toBe(true);
    } finally {
      await client?.close();
      await stop(server.child);
      await nats.dispose();
      rmSync(backup, { force: true });
      data.cleanup();
    }
  });
});
