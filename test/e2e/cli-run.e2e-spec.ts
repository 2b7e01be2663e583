import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { TokensService } from '../../src/auth/tokens.service';
import { CLI, runCliToEnd } from '../support/cli';
import { expectEventually } from '../support/expect-eventually';
import { sharedNats, uniqueKey } from '../support/nats';
import { TestApp, startTestApp, tempDataDir, testConfig } from '../support/test-app';

describe('secrets-ledger run', () => {
  const data = tempDataDir();
  const work = tempDataDir('secrets-ledger-run-');
  const key = uniqueKey('RUN_API_TOKEN');
  const manifestPath = join(work.dir, 'fiftyone.yml');
  let nats: Awaited<ReturnType<typeof sharedNats>>;
  let t: TestApp;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    nats = await sharedNats();
    t = await startTestApp(testConfig(data.dir, { nats: { url: nats.url } }));
    const executor = (await t.app.get(TokensService).issue({ name: 'run', role: 'executor', plugins: null }, SYSTEM_ACTOR)).token;
    writeFileSync(manifestPath, `name: "@acme/run-test"\nversion: 1.0.0\nsecrets:\n  - ${key}\n`);
    expect((await t.request('/api/v1/secrets', { method: 'POST', json: { key, value: 'run-value-1' } })).status).toBe(201);
    env = { PATH: process.env.PATH, SECRETS_URL: t.baseUrl, SECRETS_TOKEN: executor, NATS_URL: nats.url };
  });
  afterAll(async () => {
    await t.close();
    await nats.dispose();
    data.cleanup();
    work.cleanup();
  });

  it("runs the command with the declared secret in its environment and returns the child's exit code", async () => {
    const script = `console.log('value=' + process.env.${key}); console.log('token=' + (process.env.SECRETS_TOKEN ?? 'none')); process.exit(3)`;
    // Not spawnSync: the service answering the CLI runs in this very process.
    const result = await runCliToEnd(['run', '--plugin', manifestPath, '--', process.execPath, '-e', script], env);
    expect(result.stdout).toContain('value=run-value-1');
    expect(result.stdout).toContain('token=none');
    expect(result.status).toBe(3);
  });

  it('--precedence store-only gives the command no declared key from its own environment, stored or not', async () => {
    const unstored = uniqueKey('RUN_UNSTORED');
    const manifest = join(work.dir, 'store-only.yml');
    writeFileSync(manifest, `name: "@acme/run-store-only"\nsecrets:\n  - ${key}\n  - ${unstored}\n`);
    const script = `console.log('stored=' + process.env.${key}); console.log('unstored=' + (process.env.${unstored} ?? 'unset')); console.log('other=' + process.env.RUN_UNDECLARED)`;
    const parentEnv = { ...env, [key]: 'parent-env-value', [unstored]: 'parent-env-only', RUN_UNDECLARED: 'kept' };
    const storeOnly = await runCliToEnd(['run', '--plugin', manifest, '--precedence', 'store-only', '--', process.execPath, '-e', script], parentEnv);
    expect(storeOnly.stdout).toContain('stored=run-value-');
    expect(storeOnly.stdout).toContain('unstored=unset');
    expect(storeOnly.stdout).toContain('other=kept');
    // The control: with the default precedence the same parent environment does reach the command.
    const envFirst = await runCliToEnd(['run', '--plugin', manifest, '--', process.execPath, '-e', script], parentEnv);
    expect(envFirst.stdout).toContain('stored=parent-env-value');
    expect(envFirst.stdout).toContain('unstored=parent-env-only');
  });

  it('a FiftyOne plugin directory: warns on stderr about odd keys and keys nothing provides, and runs with what there is', async () => {
    const plugin = join(work.dir, 'hf-plugin');
    const unprovided = uniqueKey('RUN_NOWHERE');
    mkdirSync(plugin, { recursive: true });
    writeFileSync(
      join(plugin, 'fiftyone.yaml'),
      `name: "@acme/hf"\ntype: plugin\nauthor: Acme\noperators: [infer]\nsecrets:\n  - ${key}\n  - hf_endpoint\n  - ${key}\n  - ${unprovided}\n`,
    );
    const script = `console.log(JSON.stringify({ stored: process.env.${key}, lower: process.env.hf_endpoint }))`;
    const result = await runCliToEnd(['run', '--plugin', plugin, '--', process.execPath, '-e', script], { ...env, hf_endpoint: 'https://hf.example' });
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ stored: expect.stringMatching(/^run-value-/), lower: 'https://hf.example' });
    expect(result.stderr).toMatch(/warning: .*fiftyone\.yaml: secrets\[1\] "hf_endpoint" is not a valid secret key/);
    expect(result.stderr).toMatch(new RegExp(`warning: .*secrets\\[2\\] repeats ${key}: counted once`));
    expect(result.stderr).toMatch(new RegExp(`warning: @acme/hf declares ${unprovided}, but neither the store nor the environment provides it`));
    expect(result.stdout).not.toMatch(/warning/);
  });

  it('a manifest with `secrets:` empty runs the command, and warns about nothing', async () => {
    const empty = join(work.dir, 'empty.yml');
    writeFileSync(empty, 'name: "@acme/empty"\nsecrets:\n');
    const result = await runCliToEnd(['run', '--plugin', empty, '--', process.execPath, '-e', 'process.exit(0)'], env);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('with --watch, a change restarts the command with the new value; SIGTERM reaches the child and its code is ours', async () => {
    const out = join(work.dir, 'seen.txt');
    // Appends the value it started with, then waits; on SIGTERM it exits 7.
    const script = `require('fs').appendFileSync(${JSON.stringify(out)}, process.env.${key} + '\\n'); process.on('SIGTERM', () => process.exit(7)); setInterval(() => {}, 1000);`;
    const cli = spawn(process.execPath, [CLI, 'run', '--plugin', manifestPath, '--watch', '--', process.execPath, '-e', script], { env, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
    const lines = () => (existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n') : []);
    try {
      await expectEventually(() => expect(lines()).toEqual(['run-value-1']), 20_000);
      expect((await t.request(`/api/v1/secrets/${key}`, { method: 'PATCH', json: { value: 'run-value-2' } })).status).toBe(200);
      await expectEventually(() => expect(lines()).toEqual(['run-value-1', 'run-value-2']), 20_000);
    } finally {
      cli.kill('SIGTERM');
    }
    expect(await exited).toBe(7);
  });
});
