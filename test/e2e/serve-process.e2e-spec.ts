import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestPki } from '../support/certificates';
import { runCliToEnd, startServe, stop } from '../support/cli';
import { expectEventually } from '../support/expect-eventually';
import { acceptsConnections, freePort, sharedNats } from '../support/nats';

const ROOT = join(__dirname, '../..');


/** A port some other process holds for the test: what a second instance on one host meets. */
async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.address() as { port: number }).port, server };
}

/** Resolves with the child's output once it printed the listening line. */
function untilListening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const read = (chunk: Buffer) => {
      output += chunk;
      if (/secrets-ledger listening on /.test(output)) resolve(output);
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${output}`)));
  });
}

describe('the service process', () => {
  let nats: Awaited<ReturnType<typeof sharedNats>>;
  const scratch = mkdtempSync(join(tmpdir(), 'secrets-ledger-process-'));
  beforeAll(async () => (nats = await sharedNats()));
  afterAll(async () => {
    await nats.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  // The way the README and the docs start it. `--ignore-scripts` skips `prestart` (the build),
  // which `npm test` has just run; the `start` script itself still runs.
  it.each([
    ['npm start', 'npm', ['start', '--ignore-scripts']],
    ['npx secrets-ledger serve', 'npx', ['--no-install', 'secrets-ledger', 'serve']],
  ])('SIGTERM to `%s` stops the service: its port is free within 5 s, and its data dir can be taken again', async (name, command, args) => {
    const port = await freePort();
    const dataDir = join(scratch, `${command}-data`);
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), METRICS_PORT: '0', SECRETS_DATA_DIR: dataDir, LOG_LEVEL: 'warn', NATS_URL: nats.url, SECRETS_NATS_PREFIX: `process${port}` };
    const wrapper = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    await untilListening(wrapper);
    expect(await acceptsConnections(port)).toBe(true);

    wrapper.kill('SIGTERM');
    await expectEventually(async () => expect(await acceptsConnections(port)).toBe(false), 5_000);
    // The lock went with the process: a new service starts on the same data dir.
    const again = await startServe({ SECRETS_DATA_DIR: dataDir, NATS_URL: nats.url, SECRETS_NATS_PREFIX: `process${port}` });
    await stop(again.child);
  }, 60_000);

  it.each([
    ['METRICS_PORT', (port: number) => ({ PORT: '0', METRICS_PORT: String(port) })],
    ['PORT', (port: number) => ({ PORT: String(port), METRICS_PORT: '0' })],
  ])('a %s in use is named in the error, and the start creates nothing', async (variable, ports) => {
    const taken = await occupiedPort();
    try {
      const dataDir = join(scratch, `never-created-${variable}`);
      const result = await runCliToEnd(['serve'], { ...ports(taken.port), SECRETS_DATA_DIR: dataDir, NATS_URL: nats.url });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`cannot listen on ${variable}=${taken.port}`);
      expect(result.stderr).toMatch(new RegExp(`in use by another process: set ${variable} to a free port`));
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      taken.server.close();
    }
  });

  it('with a HOST beyond loopback, the banner shows the bound address and warns that plain HTTP carries tokens and values in clear', async () => {
    const dataDir = join(scratch, 'wildcard');
    const wide = await startServe({ HOST: '0.0.0.0', SECRETS_DATA_DIR: dataDir, NATS_URL: nats.url });
    await stop(wide.child);
    expect(wide.stdout).toMatch(/secrets-ledger listening on http:\/\/0\.0\.0\.0:\d+ /);
    expect(wide.output()).toMatch(/warning: plain HTTP on 0\.0\.0\.0, reachable from other machines: bearer tokens and secret values travel unencrypted/);

    // Control: on loopback, no warning, and the banner names the loopback address.
    const local = await startServe({ SECRETS_DATA_DIR: dataDir, NATS_URL: nats.url });
    await stop(local.child);
    expect(local.stdout).toMatch(/secrets-ledger listening on http:\/\/127\.0\.0\.1:\d+ /);
    expect(local.output()).not.toContain('plain HTTP');
  });

  it('over TLS on loopback, the banner and the address left in the data dir say https', async () => {
    const pki = makeTestPki();
    const dataDir = join(scratch, 'tls');
    const service = await startServe({ SECRETS_DATA_DIR: dataDir, NATS_URL: nats.url, TLS_CERT_FILE: pki.serverCertFile, TLS_KEY_FILE: pki.serverKeyFile });
    try {
      expect(service.stdout).toMatch(/secrets-ledger listening on https:\/\/127\.0\.0\.1:\d+ /);
      // The CLI on this machine finds the service through that address: it must name the scheme served.
      const refused = await runCliToEnd(['rebuild-read-model'], { SECRETS_DATA_DIR: dataDir });
      expect(refused.stderr).toMatch(/a service \(pid \d+, https:\/\/127\.0\.0\.1:\d+\) holds the data dir/);
    } finally {
      await stop(service.child);
      pki.cleanup();
    }
  });

  it('rebuild-read-model refuses while a service holds the data dir, and runs once it stopped', async () => {
    const dataDir = join(scratch, 'rebuild');
    const service = await startServe({ SECRETS_DATA_DIR: dataDir, NATS_URL: nats.url });
    try {
      const refused = await runCliToEnd(['rebuild-read-model'], { SECRETS_DATA_DIR: dataDir });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/a service \(pid \d+, http:\/\/127\.0\.0\.1:\d+\) holds the data dir .*: stop it before rebuilding the read model/);
      expect(refused.stdout).toBe('');
    } finally {
      await stop(service.child);
    }
    const rebuilt = await runCliToEnd(['rebuild-read-model'], { SECRETS_DATA_DIR: dataDir });
    expect({ status: rebuilt.status, stdout: rebuilt.stdout }).toEqual({ status: 0, stdout: expect.stringMatching(/^rebuilt the read model from 0 events/) });
  });
});
