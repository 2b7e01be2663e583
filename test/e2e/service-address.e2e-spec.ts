import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SecretsClient } from '../../src/client';
import { runCliToEnd } from '../support/cli';
import { tempDataDir, useTestApp } from '../support/test-app';

/**
 * The SDK and `run` read the service's address and token by the rules the admin commands use
 * (test/e2e/admin-cli.e2e-spec.ts): a token as pasted, an address ending in /api/v1, a malformed
 * SECRETS_URL named. No NATS here: what is tested is how the service is found and asked.
 */
describe('the SDK and run read SECRETS_URL and SECRETS_TOKEN as pasted', () => {
  const t = useTestApp({ nats: { url: 'nats://127.0.0.1:1' } });
  const work = tempDataDir('secrets-ledger-service-address-');
  const KEY = 'SERVICE_ADDRESS_KEY';
  const VALUE = 'service-address-value-3e8d';
  let executor: string;
  let manifest: string;

  beforeAll(async () => {
    expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key: KEY, value: VALUE } })).status).toBe(201);
    const issued = await t.request('/api/v1/tokens', { method: 'POST', json: { name: 'address-runner', role: 'executor' } });
    executor = ((await issued.json()) as { token: string }).token;
    manifest = join(work.dir, 'fiftyone.yml');
    writeFileSync(manifest, `name: "@acme/address"\nsecrets:\n  - ${KEY}\n`);
  });
  afterAll(() => work.cleanup());

  const pasted = (token: string) => [`${token}\n`, ` ${token}\r\n`, `Bearer ${token}`, `\tbearer  ${token} \n`];

  it('the SDK resolves with a token pasted with whitespace or a Bearer prefix, and at an address ending in /api/v1', async () => {
    const urls = [t.baseUrl, `${t.baseUrl}/api/v1`, `${t.baseUrl}/api/v1/`];
    for (const [i, token] of pasted(executor).entries()) {
      const url = urls[i % urls.length];
      const client = await SecretsClient.connect({ url, token, env: {} });
      try {
        expect({ url, token, value: (await client.hydrate({ name: '@acme/address', secrets: [KEY] })).secrets.get(KEY) }).toEqual({ url, token, value: VALUE });
      } finally {
        await client.close();
      }
    }
  });

  it('run resolves with SECRETS_TOKEN pasted with a newline and a Bearer prefix, and names a malformed SECRETS_URL', async () => {
    const print = ['run', '--plugin', manifest, '--', process.execPath, '-e', `console.log('value=' + process.env.${KEY})`];
    const env = { SECRETS_URL: `${t.baseUrl}/api/v1`, NATS_URL: 'nats://127.0.0.1:1' };
    for (const token of pasted(executor).slice(2)) {
      const result = await runCliToEnd(print, { ...env, SECRETS_TOKEN: token });
      expect({ token, status: result.status, stdout: result.stdout }).toEqual({ token, status: 0, stdout: `value=${VALUE}\n` });
    }

    const { host } = new URL(t.baseUrl);
    const malformed = await runCliToEnd(print, { ...env, SECRETS_URL: host, SECRETS_TOKEN: executor });
    expect(malformed.status).toBe(1);
    expect(malformed.stderr).toMatch(/^secrets-ledger: SECRETS_URL has no http:\/\/ or https:\/\/ in front: expected an address such as http:\/\/127\.0\.0\.1:3000/);
    expect(malformed.stderr).not.toContain(host);
    expect(malformed.stdout).not.toContain('value=');
  });
});
