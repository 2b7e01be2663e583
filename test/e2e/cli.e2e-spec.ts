import { randomBytes } from 'node:crypto';
import { runCli, startServe, stop } from '../support/cli';
import { join } from 'node:path';
import { filesContaining, openDatabase } from '../support/data-dir';
import { call } from '../support/ledger-load';
import { consumerRows } from '../support/ledger-state';
import { signingKeyFile } from '../support/signing-key';
import { SqliteSession } from '../../src/storage/sqlite/sqlite-session';
import { ADMIN_TOKEN, tempDataDir } from '../support/test-app';

describe('secrets-ledger CLI', () => {
  it('refuses invalid configuration with one line per problem and a non-zero exit', () => {
    const result = runCli(['serve'], { PORT: 'x', NODE_ENV: 'production', LOG_LEVEL: 'chatty' });
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toBe('secrets-ledger: invalid configuration');
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^ {2}- PORT/),
      expect.stringMatching(/^ {2}- SECRETS_MASTER_KEYS is required/),
      expect.stringMatching(/^ {2}- LOG_LEVEL/),
      expect.stringMatching(/^ {2}- SECRETS_SIGNING_KEY_FILE is required/),
    ]);
  });

  it('a PostgreSQL it cannot reach stops the start with one clear last line naming the server, never the password', () => {
    const data = tempDataDir();
    try {
      const result = runCli(['serve'], {
        SECRETS_DATA_DIR: data.dir,
        // Port 1: nothing listens there.
        DATABASE_URL: 'postgres://ledger:pw-unreachable-0451@127.0.0.1:1/secrets',
        SECRETS_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
        SECRETS_SIGNING_KEY_FILE: signingKeyFile(data.dir),
        PORT: '0',
        METRICS_PORT: '0',
      });
      expect(result.status).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines[lines.length - 1]).toMatch(/^secrets-ledger: cannot open the PostgreSQL database postgres:\/\/127\.0\.0\.1:1\/secrets: .*ECONNREFUSED/);
      expect(result.stdout).toContain('(database postgres://127.0.0.1:1/secrets)');
      // The URL is printed (above), without its user and password.
      expect(`${result.stdout}${result.stderr}`).not.toMatch(/pw-unreachable-0451|\/\/ledger[:@]/);
    } finally {
      data.cleanup();
    }
  });

  it('on first start prints a generated admin token once, stores only its hash, and rebuilds the read model', async () => {
    const data = tempDataDir();
    // The most talkative log level: even then no value may appear in the output.
    const env = { SECRETS_DATA_DIR: data.dir, LOG_LEVEL: 'trace' };
    try {
      const first = await startServe(env);
      const token = /(slt_[A-Za-z0-9_-]{43})/.exec(first.stdout)?.[1];
      expect(token).toBeDefined();
      const created = await fetch(`${first.url}/api/v1/secrets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ key: 'FROM_CLI', value: 'cli-plaintext-value-7d1e' }),
      });
      expect(created.status).toBe(201);
      const invalid = await fetch(`${first.url}/api/v1/secrets/FROM_CLI`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{"value": cli-plaintext-value-7d1e}',
      });
      expect(invalid.status).toBe(400);
      await stop(first.child);
      expect(first.output()).toContain('request completed');
      // The development key is announced in a banner of its own, not in a log line.
      expect(first.output()).toMatch(/\n={64}\n WARNING: SECRETS_MASTER_KEYS is unset[^\n]*\n[^\n]*\n\n {3}\S+master-keys\.dev {3}\(mode 0600\)\n/);
      expect(first.output()).not.toContain('cli-plaintext-value-7d1e');
      expect(filesContaining(data.dir, token!)).toEqual([]);
      expect(filesContaining(data.dir, 'cli-plaintext-value-7d1e')).toEqual([]);

      const second = await startServe(env);
      expect(second.stdout).not.toMatch(/slt_/);
      await stop(second.child);

      const rebuilt = runCli(['rebuild-read-model'], env);
      expect(rebuilt.status).toBe(0);
      expect(rebuilt.stdout).toMatch(/rebuilt the read model from \d+ events: 1 keys, revision 1/);
    } finally {
      data.cleanup();
    }
  });

  it('rebuild-read-model also rebuilds who holds which version, from the resolve entries alone, after the table was emptied and edited', async () => {
    const data = tempDataDir();
    const env = { SECRETS_DATA_DIR: data.dir, SECRETS_ADMIN_TOKEN: ADMIN_TOKEN };
    try {
      const server = await startServe(env);
      const json = async (path: string, token: string, init: { method?: string; json?: unknown }) => (await (await call(server.url, token, path, init))!.json()) as { token: string };
      const executors = [await json('/api/v1/tokens', ADMIN_TOKEN, { method: 'POST', json: { name: 'reader-a', role: 'executor' } }), await json('/api/v1/tokens', ADMIN_TOKEN, { method: 'POST', json: { name: 'reader-b', role: 'executor' } })];
      for (const key of ['REBUILT_ONE', 'REBUILT_TWO']) await call(server.url, ADMIN_TOKEN, '/api/v1/secrets', { method: 'POST', json: { key, value: `${key}-v1` } });
      for (const { token } of executors) expect((await call(server.url, token, '/api/v1/resolve', { method: 'POST', json: { plugin: 'p1', keys: ['REBUILT_ONE', 'REBUILT_TWO', 'NEVER_STORED'] } }))?.status).toBe(200);
      await call(server.url, ADMIN_TOKEN, '/api/v1/secrets/REBUILT_ONE', { method: 'PATCH', json: { value: 'REBUILT_ONE-v2' } });
      expect((await call(server.url, executors[0].token, '/api/v1/resolve', { method: 'POST', json: { plugin: 'p2', keys: ['REBUILT_ONE'] } }))?.status).toBe(200);
      expect((await call(server.url, executors[0].token, '/api/v1/resolve', { method: 'POST', json: { plugin: 'p1', keys: ['REBUILT_ONE'] } }))?.status).toBe(200);
      await stop(server.child);

      const db = openDatabase(join(data.dir, 'secrets.db'));
      const rows = () => consumerRows(new SqliteSession(db));
      const before = await rows();
      // Two tokens × two keys for p1, and p2's one read: the newest read of each.
      expect(before).toHaveLength(5);
      db.prepare("DELETE FROM secret_consumers WHERE key = 'REBUILT_TWO'").run();
      db.prepare('UPDATE secret_consumers SET version = 99').run();
      expect(await rows()).not.toEqual(before);

      const rebuilt = runCli(['rebuild-read-model'], env);
      expect(rebuilt.status).toBe(0);
      expect(rebuilt.stdout).toMatch(/rebuilt who holds which version from 4 resolve entries: 5 rows/);
      expect(await rows()).toEqual(before);
      db.close();
    } finally {
      data.cleanup();
    }
  });

  it('a lost admin token is recovered as docs/OPERATING.md says: one start with a new SECRETS_ADMIN_TOKEN, then the lost one revoked', async () => {
    const data = tempDataDir();
    try {
      const first = await startServe({ SECRETS_DATA_DIR: data.dir });
      const lost = /(slt_[A-Za-z0-9_-]{43})/.exec(first.stdout)?.[1];
      expect(lost).toBeDefined();
      await stop(first.child);

      const fresh = `slt_${randomBytes(32).toString('base64url')}`;
      const second = await startServe({ SECRETS_DATA_DIR: data.dir, SECRETS_ADMIN_TOKEN: fresh });
      try {
        const env = { SECRETS_URL: second.url, SECRETS_TOKEN: fresh };
        const listed = runCli(['tokens', 'list', '--json'], env);
        expect(listed.status).toBe(0);
        const admins = (JSON.parse(listed.stdout).items as Array<{ id: string; role: string; createdAt: string }>).filter((t) => t.role === 'admin');
        expect(admins).toHaveLength(2);
        const [lostToken] = admins.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
        expect(runCli(['tokens', 'revoke', lostToken.id], env).status).toBe(0);
        expect(runCli(['secrets', 'list'], { ...env, SECRETS_TOKEN: lost }).status).toBe(5);
        expect(runCli(['secrets', 'list'], env).status).toBe(0);
      } finally {
        await stop(second.child);
      }
    } finally {
      data.cleanup();
    }
  });
});
