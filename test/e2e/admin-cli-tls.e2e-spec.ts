import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Server, createServer } from 'node:https';
import { join } from 'node:path';
import { CLI } from '../support/cli';
import { tempDataDir } from '../support/test-app';

/**
 * SECRETS_CA_FILE: the admin commands trust the CA it names for HTTPS, and nothing else. The
 * service of this build speaks plain HTTP, so the HTTPS end here is a stand-in that answers one
 * route the way the service does; what is tested is the CLI's side of TLS.
 */
/** What the stand-in answers to the audit routes, as the service would. */
const VERIFIED = { ok: true, checked: 3, head: { seq: 3, hash: 'c'.repeat(64) } };
const EXPORTED = '{"seq":1}\n{"seq":2}\n{"seq":3}\n';

describe('admin commands over HTTPS with SECRETS_CA_FILE', () => {
  const work = tempDataDir('secrets-ledger-tls-');
  let server: Server;
  let url: string;
  const cert = join(work.dir, 'cert.pem');

  beforeAll(async () => {
    const request = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'];
    const made = spawnSync('openssl', [...request, '-keyout', join(work.dir, 'key.pem'), '-out', cert], { encoding: 'utf8' });
    if (made.error || made.status !== 0) throw new Error(`this test needs openssl (apt-get install openssl): ${made.error?.message ?? made.stderr}`);
    server = createServer({ key: readFileSync(join(work.dir, 'key.pem')), cert: readFileSync(cert) }, (request, response) => {
      const authorized = request.headers.authorization === 'Bearer slt_tls-test-token';
      if (!authorized) return void response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 401 }));
      if (request.url?.startsWith('/api/v1/audit/export')) return void response.writeHead(200, { 'content-type': 'application/x-ndjson' }).end(EXPORTED);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(request.url === '/api/v1/audit/verify' ? VERIFIED : { items: [], next: null }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    work.cleanup();
  });

  const list = (extra: NodeJS.ProcessEnv, args = ['secrets', 'list', '--json']) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, SECRETS_URL: url, SECRETS_TOKEN: 'slt_tls-test-token', ...extra } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.once('close', (status) => resolve({ status, stdout, stderr }));
    });

  it('trusts the CA file, and refuses the same server without it', async () => {
    const trusted = await list({ SECRETS_CA_FILE: cert });
    expect(trusted.status).toBe(0);
    expect(JSON.parse(trusted.stdout)).toEqual({ items: [] });

    const untrusted = await list({});
    expect(untrusted.status).toBe(6);
    expect(untrusted.stderr).toMatch(/cannot reach the service .*self.signed certificate/);
  });

  it('audit verify and export through the API trust the same CA file, and refuse the server without it', async () => {
    const verified = await list({ SECRETS_CA_FILE: cert }, ['audit', 'verify']);
    expect(verified.status).toBe(0);
    expect(verified.stdout).toBe(`ok: 3 events checked; head seq 3 hash ${VERIFIED.head.hash}\n`);
    const exported = await list({ SECRETS_CA_FILE: cert }, ['audit', 'export', '--format', 'ndjson']);
    expect(exported.status).toBe(0);
    expect(exported.stdout).toBe(EXPORTED);

    const untrusted = await list({}, ['audit', 'verify']);
    expect(untrusted.status).toBe(6);
    expect(untrusted.stderr).toMatch(/cannot reach the service .*self.signed certificate/);
  });

  it('a CA file that cannot be read is a usage error naming it', async () => {
    const result = await list({ SECRETS_CA_FILE: join(work.dir, 'absent.pem') });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('SECRETS_CA_FILE: cannot read');
  });
});
