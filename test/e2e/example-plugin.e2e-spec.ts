import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CLI } from '../support/cli';
import { expectEventually } from '../support/expect-eventually';
import { PrivateNatsServer } from '../support/nats';
import { ADMIN_TOKEN, TestApp, startTestApp, tempDataDir, testConfig } from '../support/test-app';

const PLUGIN = join(__dirname, '../../examples/annotation-plugin');

/** The admin CLI as the README and docs/CLI.md show it, the value on standard input. */
function admin(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.once('close', (status) => resolve({ status, stdout }));
    child.stdin.end(stdin);
  });
}

interface Report {
  default: string;
  backends: Record<string, { at: string; credentials: Record<string, boolean> }>;
}

describe('the example annotation plugin (python3) under `secrets-ledger run --watch`', () => {
  const data = tempDataDir();
  let nats: PrivateNatsServer;
  let t: TestApp;
  let adminEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    if (spawnSync('python3', ['--version']).error) throw new Error('this test needs python3 (apt-get install python3)');
    // NATS of its own: the plugin's notifications come from this service alone.
    nats = await PrivateNatsServer.start();
    t = await startTestApp(testConfig(data.dir, { nats: { url: nats.url } }));
    adminEnv = { PATH: process.env.PATH, SECRETS_URL: t.baseUrl, SECRETS_TOKEN: ADMIN_TOKEN };
  });
  afterAll(async () => {
    await t?.close();
    await nats?.dispose();
    data.cleanup();
  });

  it('starts with the stored secrets, and restarts with the new value after `secrets set`', async () => {
    const password = 'cvat-password-never-printed-9e21';
    for (const [key, value] of [
      ['FIFTYONE_CVAT_URL', 'https://cvat.example/v1'],
      ['FIFTYONE_CVAT_USERNAME', 'annotator'],
      ['FIFTYONE_CVAT_PASSWORD', password],
    ]) {
      expect((await admin(['secrets', 'add', key], adminEnv, value)).status).toBe(0);
    }
    const issued = await admin(['tokens', 'issue', '--name', 'annotation-runner', '--role', 'executor', '--plugin', '@voxel51/annotation', '--json'], adminEnv);
    expect(issued.status).toBe(0);
    const executor = (JSON.parse(issued.stdout) as { token: string }).token;

    const runner: ChildProcess = spawn(process.execPath, [CLI, 'run', '--plugin', PLUGIN, '--watch', '--', 'python3', PLUGIN], {
      env: { PATH: process.env.PATH, SECRETS_URL: t.baseUrl, SECRETS_TOKEN: executor, NATS_URL: nats.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    runner.stdout!.on('data', (chunk) => (stdout += chunk));
    runner.stderr!.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => runner.once('exit', resolve));
    const reports = () =>
      stdout
        .split('\n')
        .filter((line) => line.startsWith('annotation plugin: {'))
        .map((line) => JSON.parse(line.slice('annotation plugin: '.length)) as Report);
    try {
      await expectEventually(() => expect(reports()).toHaveLength(1), 20_000);
      expect(reports()[0]).toEqual({
        default: 'cvat',
        backends: { cvat: { at: 'https://cvat.example/v1', credentials: { FIFTYONE_CVAT_USERNAME: true, FIFTYONE_CVAT_PASSWORD: true, FIFTYONE_CVAT_EMAIL: false } } },
      });
      // Nine of its twelve keys are neither stored nor in the environment: run says so.
      expect(stderr).toMatch(/warning: @voxel51\/annotation declares .*FIFTYONE_LABELBOX_API_KEY.*, but neither the store nor the environment provides them/);

      expect((await admin(['secrets', 'set', 'FIFTYONE_CVAT_URL'], adminEnv, 'https://cvat.example/v2\n')).status).toBe(0);
      await expectEventually(() => expect(reports()).toHaveLength(2), 20_000);
      expect(stdout).toContain('annotation plugin: stopping');
      expect(reports()[1].backends.cvat.at).toBe('https://cvat.example/v2');
    } finally {
      runner.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stdout + stderr).not.toContain(password);
  });
});
