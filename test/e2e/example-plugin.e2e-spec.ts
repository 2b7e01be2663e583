import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CLI } from '../support/cli';
import { expectEventually } from '../support/expect-eventually';
import { PrivateNatsServer } from '../support/nats';
import { python3With } from '../support/python';
import { ADMIN_TOKEN, TestApp, startTestApp, tempDataDir, testConfig } from '../support/test-app';

const ROOT = join(__dirname, '../..');
const PLUGIN = join(ROOT, 'examples/annotation-plugin');

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

describe('the example annotation plugin (python3): under `secrets-ledger run --watch`, and its in-process worker', () => {
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

  it('its worker (worker.py) reads through the FiftyOne provider and reports a change without restarting', async () => {
    const python = python3With(['yaml'], ['python3-yaml']);
    const issued = await admin(['tokens', 'issue', '--name', 'annotation-worker', '--role', 'executor', '--plugin', '@voxel51/annotation', '--json'], adminEnv);
    const executor = (JSON.parse(issued.stdout) as { token: string }).token;
    // No NATS_URL: the worker follows the service's change stream.
    const worker = spawn(python, [join(PLUGIN, 'worker.py')], {
      env: { PATH: process.env.PATH, SECRETS_URL: t.baseUrl, SECRETS_TOKEN: executor, PYTHONPATH: join(ROOT, 'clients/python'), PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    worker.stdout.on('data', (chunk) => (output += chunk));
    worker.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => worker.once('exit', resolve));
    const reports = () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('annotation worker: {'))
        .map((line) => JSON.parse(line.slice('annotation worker: '.length)) as Report & { pid: number; changed: string[] });
    try {
      await expectEventually(() => expect(reports()).toHaveLength(1), 20_000);
      expect(reports()[0]).toMatchObject({ pid: worker.pid, changed: [], default: 'cvat' });
      expect(reports()[0].backends.cvat.credentials).toEqual({ FIFTYONE_CVAT_USERNAME: true, FIFTYONE_CVAT_PASSWORD: true, FIFTYONE_CVAT_EMAIL: false });

      expect((await admin(['secrets', 'set', 'FIFTYONE_CVAT_URL'], adminEnv, 'https://cvat.example/v3\n')).status).toBe(0);
      await expectEventually(() => expect(reports()).toHaveLength(2), 5_000);
      // The same process: nothing restarted, nothing stopped.
      expect(reports()[1]).toMatchObject({ pid: worker.pid, changed: ['FIFTYONE_CVAT_URL'] });
      expect(reports()[1].backends.cvat.at).toBe('https://cvat.example/v3');
      expect(output).not.toContain('stopping');
    } finally {
      worker.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(output).toContain('annotation worker: stopping');
    expect(output).not.toContain('cvat-password-never-printed-9e21');
    // Three processes start here (the CLI, Python, its first resolve): room for a loaded machine.
  }, 60_000);
});
