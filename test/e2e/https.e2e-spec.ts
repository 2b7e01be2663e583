import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { SecretsClient, SecretsServiceUnreachableError } from '../../src/client';
import { SecretValue } from '../../src/crypto/secret-value';
import { SecretsService } from '../../src/secrets/secrets.service';
import { makeTestPki, TestPki } from '../support/certificates';
import { runCliToEnd } from '../support/cli';
import { uniqueKey } from '../support/nats';
import { ADMIN_TOKEN, TestApp, startTestApp, tempDataDir, testConfig } from '../support/test-app';

/** SPEC §7: TLS_CERT_FILE/TLS_KEY_FILE make the service speak HTTPS; clients take SECRETS_CA_FILE. */
describe('HTTPS with a certificate from a CA made by the test', () => {
  const data = tempDataDir();
  const work = tempDataDir('secrets-ledger-https-');
  const key = uniqueKey('HTTPS_TOKEN');
  let pki: TestPki;
  let t: TestApp;
  let executor: string;
  let manifest: string;
  // No NATS for these clients: what is tested is the HTTPS path alone.
  const runEnv = () => ({ SECRETS_URL: t.baseUrl, SECRETS_TOKEN: executor, NATS_URL: 'nats://127.0.0.1:1' });

  beforeAll(async () => {
    pki = makeTestPki();
    t = await startTestApp(testConfig(data.dir, { tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile }, nats: { url: 'nats://127.0.0.1:1' } }));
    executor = (await t.app.get(TokensService).issue({ name: 'https-executor', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
    await t.app.get(SecretsService).execute({ type: 'AddSecret', key, value: new SecretValue('https-value-0c41') }, SYSTEM_ACTOR);
    manifest = join(work.dir, 'fiftyone.yml');
    writeFileSync(manifest, `name: "@acme/https"\nsecrets:\n  - ${key}\n`);
  });
  afterAll(async () => {
    await t.close();
    pki.cleanup();
    data.cleanup();
    work.cleanup();
  });

  it('serves HTTPS only: the health route answers over TLS with the CA', async () => {
    expect(t.baseUrl).toMatch(/^https:\/\//);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      request(`${t.baseUrl}/health`, { ca: pki.ca }, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
        .once('error', reject)
        .end();
    });
    expect(status).toBe(200);
  });

  it('the SDK resolves when given the CA, and follows the change stream over the same HTTPS', async () => {
    const client = await SecretsClient.connect({ url: t.baseUrl, token: executor, ca: pki.ca, env: {} });
    try {
      const ctx = await client.hydrate({ name: '@acme/https', secrets: [key] });
      expect(ctx.secrets.get(key)).toBe('https-value-0c41');
      expect(ctx.live).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('without the CA the SDK fails with an error that names the URL and the untrusted certificate', async () => {
    const client = await SecretsClient.connect({ url: t.baseUrl, token: executor, env: {} });
    try {
      const failure = await client.hydrate({ name: '@acme/https', secrets: [key] }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SecretsServiceUnreachableError);
      expect((failure as Error).message).toContain(`cannot reach the secrets service at ${t.baseUrl}`);
      expect((failure as Error).message).toMatch(/certificate is not trusted .*SECRETS_CA_FILE/);
      expect((failure as Error).message).not.toContain(executor);
    } finally {
      await client.close();
    }
  });

  it('run resolves with SECRETS_CA_FILE, and without it fails naming the URL', async () => {
    const print = ['run', '--plugin', manifest, '--', process.execPath, '-e', `console.log('value=' + process.env.${key})`];
    const trusted = await runCliToEnd(print, { ...runEnv(), SECRETS_CA_FILE: pki.caFile });
    expect(trusted.stdout).toContain('value=https-value-0c41');
    expect(trusted.status).toBe(0);

    const untrusted = await runCliToEnd(print, runEnv());
    expect(untrusted.status).not.toBe(0);
    expect(untrusted.stdout).not.toContain('value=');
    expect(untrusted.stderr).toContain(`cannot reach the secrets service at ${t.baseUrl}`);
  });

  it('http:// against the HTTPS service says so in one line, in the admin commands and the SDK alike', async () => {
    const { host } = new URL(t.baseUrl);
    const listed = await runCliToEnd(['secrets', 'list'], { SECRETS_URL: `http://${host}`, SECRETS_TOKEN: ADMIN_TOKEN, SECRETS_CA_FILE: pki.caFile });
    expect(listed.status).toBe(6);
    expect(listed.stderr).toBe(`secrets-ledger: cannot reach the service at http://${host}: ${host} answers HTTPS, not plain HTTP: use https://${host}\n`);

    const client = await SecretsClient.connect({ url: `http://${host}`, token: executor, ca: pki.ca, env: {} });
    try {
      const failure = await client.hydrate({ name: '@acme/https', secrets: [key] }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SecretsServiceUnreachableError);
      expect((failure as Error).message).toBe(`cannot reach the secrets service at http://${host}: ${host} answers HTTPS, not plain HTTP: use https://${host}`);
    } finally {
      await client.close();
    }
  });
});
