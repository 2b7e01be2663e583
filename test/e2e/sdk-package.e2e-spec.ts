import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, stop } from '../support/cli';
import { markedBlock } from '../support/markdown-blocks';
import { sharedNats, uniqueKey } from '../support/nats';
import { ADMIN_TOKEN } from '../support/test-app';

const ROOT = join(__dirname, '../..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

function exec(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (status) => resolve({ status, output }));
  });
}

/**
 * The SDK as a user gets it: `npm pack` of this checkout (built by `npm test` first), installed
 * into a project outside the repository, and docs/SDK.md's snippet compiled there by the
 * repository's TypeScript under the module settings a project is likely to have, then run
 * against a real service. The install takes its packages from npm's cache where it can.
 */
describe('the packed SDK in a project of its own', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'secrets-ledger-sdk-package-'));
  const project = join(scratch, 'project');
  const snippet = markedBlock(join(ROOT, 'docs/SDK.md'), 'sdk-snippet');

  beforeAll(async () => {
    const pack = await exec('npm', ['pack', '--ignore-scripts', '--pack-destination', scratch], ROOT);
    expect(pack.status).toBe(0);
    const tarball = readdirSync(scratch).find((name) => name.endsWith('.tgz'))!;
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'sdk-consumer', version: '1.0.0', private: true }));
    // --ignore-scripts: the SDK needs no native module, and better-sqlite3's build is the service's.
    const install = await exec('npm', ['install', join(scratch, tarball), '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], project);
    expect({ status: install.status, output: install.status === 0 ? '' : install.output }).toEqual({ status: 0, output: '' });
  }, 240_000);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('loads through require() as `secrets-ledger` and `secrets-ledger/client`', async () => {
    const script = "for (const name of ['secrets-ledger', 'secrets-ledger/client']) console.log(name, typeof require(name).SecretsClient.connect);";
    const result = await exec(process.execPath, ['-e', script], project);
    expect(result).toEqual({ status: 0, output: 'secrets-ledger function\nsecrets-ledger/client function\n' });
  });

  describe.each([
    ['commonjs (TypeScript’s default resolution, node10)', ['--module', 'commonjs']],
    ['node16', ['--module', 'node16', '--moduleResolution', 'node16']],
    ['bundler', ['--module', 'preserve', '--moduleResolution', 'bundler', '--noEmit']],
  ])('under --module %s', (_name, moduleFlags) => {
    const dir = join(project, `build-${moduleFlags[1]}`);

    it("type-checks docs/SDK.md's snippet as pasted, and an import from the package root", async () => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'snippet.ts'), snippet.code);
      writeFileSync(join(dir, 'root.ts'), "import { SecretsClient } from 'secrets-ledger';\nexport const connect: typeof SecretsClient.connect = SecretsClient.connect;\n");
      const flags = [...moduleFlags, '--strict', '--target', 'es2022', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules/@types'), '--outDir', dir];
      const compiled = await exec(process.execPath, [TSC, ...flags, join(dir, 'snippet.ts'), join(dir, 'root.ts')], project);
      expect(compiled).toEqual({ status: 0, output: '' });
    }, 60_000);
  });

  // Runs what the type-check tests above emitted (Jest runs a file's tests in order).
  it('runs the compiled snippet (commonjs and node16) against a service: it reads its plugin secret from the store', async () => {
    const nats = await sharedNats();
    const dataDir = join(scratch, 'data');
    const prefix = uniqueKey('sdkpackage').toLowerCase();
    const service = await startServe({ SECRETS_DATA_DIR: dataDir, SECRETS_ADMIN_TOKEN: ADMIN_TOKEN, NATS_URL: nats.url, SECRETS_NATS_PREFIX: prefix });
    try {
      const api = (path: string, body: object) =>
        fetch(`${service.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect((await api('/api/v1/secrets', { key: 'FIFTYONE_CVAT_URL', value: 'https://cvat.example:8080/api' })).status).toBe(201);
      const { token } = (await (await api('/api/v1/tokens', { name: 'sdk-package', role: 'executor' })).json()) as { token: string };
      writeFileSync(join(project, 'fiftyone.yml'), 'name: "@voxel51/annotation"\nsecrets:\n  - FIFTYONE_CVAT_URL\n');
      for (const build of ['build-commonjs', 'build-node16']) {
        const env = { SECRETS_URL: service.url, SECRETS_TOKEN: token, NATS_URL: nats.url, SECRETS_NATS_PREFIX: prefix };
        const ran = await exec(process.execPath, [join(project, build, 'snippet.js')], project, env);
        expect({ build, ...ran }).toEqual({ build, status: 0, output: 'CVAT at cvat.example:8080, from the store\n' });
      }
    } finally {
      await stop(service.child);
      await nats.dispose();
    }
  }, 60_000);
});
