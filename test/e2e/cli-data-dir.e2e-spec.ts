import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startServe, stop } from '../support/cli';
import { tempDataDir } from '../support/test-app';

const MAINTENANCE_COMMANDS = [
  ['rebuild-read-model'],
  ['rotate-master-key'],
  ['audit', 'verify'],
  ['audit', 'export', '--format', 'ndjson'],
];

describe('the data dir: only serve creates one', () => {
  it.each(MAINTENANCE_COMMANDS.map((args) => [args.join(' '), args]))(
    '%s run from another directory refuses, naming the absolute path, and creates nothing',
    (_name, args) => {
      const cwd = tempDataDir('secrets-ledger-cwd-');
      try {
        for (const env of [{}, { SECRETS_DATA_DIR: 'relative/dir' }, { SECRETS_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}` }]) {
          const run = runCli(args as string[], env, cwd.dir);
          const expected = join(cwd.dir, 'SECRETS_DATA_DIR' in env ? 'relative/dir' : 'data', 'secrets.db');
          expect(run.status).toBe(1);
          expect(run.stderr).toContain(`no database at ${expected}`);
          expect(readdirSync(cwd.dir)).toEqual([]);
        }
      } finally {
        cwd.cleanup();
      }
    },
  );

  it('serve creates the data dir and names its absolute path first; then the other commands use it and say which', async () => {
    const parent = tempDataDir();
    const dir = join(parent.dir, 'new', 'data');
    const env = { SECRETS_DATA_DIR: dir, SECRETS_ADMIN_TOKEN: 'slt_data-dir-admin-token-0123456789abcdefghijk' };
    try {
      const server = await startServe(env);
      expect(server.stdout.split('\n')[0]).toBe(`secrets-ledger data dir ${dir} (database ${join(dir, 'secrets.db')})`);
      await stop(server.child);
      expect(existsSync(join(dir, 'secrets.db'))).toBe(true);
      const rebuilt = runCli(['rebuild-read-model'], env);
      expect(rebuilt.status).toBe(0);
      expect(rebuilt.stderr).toContain(`using the database ${join(dir, 'secrets.db')}`);
    } finally {
      parent.cleanup();
    }
  });

  it('serve refuses to start on a data dir another process holds', async () => {
    const data = tempDataDir();
    const env = { SECRETS_DATA_DIR: data.dir, SECRETS_ADMIN_TOKEN: 'slt_data-dir-admin-token-0123456789abcdefghijk' };
    try {
      const first = await startServe(env);
      try {
        const second = runCli(['serve'], { ...env, PORT: '0' });
        expect(second.status).toBe(1);
        expect(second.stderr).toMatch(new RegExp(`another secrets-ledger process holds the data dir ${data.dir}`));
      } finally {
        await stop(first.child);
      }
    } finally {
      data.cleanup();
    }
  });
});
