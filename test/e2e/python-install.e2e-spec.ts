import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { startServe, stop } from '../support/cli';
import { markedBlock } from '../support/markdown-blocks';
import { sharedNats, uniqueKey } from '../support/nats';
import { python3With } from '../support/python';
import { ADMIN_TOKEN } from '../support/test-app';

const ROOT = join(__dirname, '../..');

function exec(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', (error) => resolve({ status: null, stdout, stderr: String(error) }));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * The Python client as docs/SDK.md tells a user to install it: its install block run by bash as
 * printed (less the apt-get line, whose packages this test requires instead), in a folder outside
 * the repository that holds only a copy of clients/python, with no package index in reach (pip's
 * configuration files ignored, its index a closed port). Then the copy is deleted, and the SDK
 * page's Python example runs on the installed package alone against a real service.
 */
describe('the Python client installed as docs/SDK.md says, outside the repository', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'secrets-ledger-python-install-'));
  const checkout = join(scratch, 'checkout');
  const project = join(scratch, 'project');
  const venvPython = join(checkout, '.venv/bin/python');
  const install = markedBlock(join(ROOT, 'docs/SDK.md'), 'python-install');
  const aptLines = install.code.split('\n').filter((line) => line.startsWith('apt-get '));
  const debianPackages = aptLines.join(' ').split(/\s+/).filter((word) => word.startsWith('python3-'));
  // The interpreter the block's `python3` must be: one with what the apt-get line installs.
  const python = python3With(['yaml', 'setuptools', 'wheel', 'ensurepip', 'venv'], debianPackages);
  const env = {
    PATH: python.includes('/') ? `${dirname(python)}:${process.env.PATH}` : process.env.PATH,
    HOME: scratch,
    PIP_CONFIG_FILE: '/dev/null',
    PIP_INDEX_URL: 'http://127.0.0.1:9/simple',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PYTHONDONTWRITEBYTECODE: '1',
  };

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('installs with the block as printed, no package index reached', async () => {
    expect(install.language).toBe('sh');
    expect(aptLines).toHaveLength(1);
    expect(debianPackages).toEqual(expect.arrayContaining(['python3-venv', 'python3-setuptools', 'python3-wheel', 'python3-yaml']));
    mkdirSync(join(checkout, 'clients'), { recursive: true });
    cpSync(join(ROOT, 'clients/python'), join(checkout, 'clients/python'), {
      recursive: true,
      filter: (path) => !['build', '__pycache__', '.pytest_cache'].includes(basename(path)) && !path.endsWith('.egg-info'),
    });
    const script = `set -euo pipefail\n${install.code.split('\n').filter((line) => !line.startsWith('apt-get ')).join('\n')}`;
    const ran = await exec('bash', ['-c', script], checkout, env);
    expect({ status: ran.status, stderr: ran.status === 0 ? '' : `${ran.stdout}\n${ran.stderr}` }).toEqual({ status: 0, stderr: '' });
    expect(ran.stdout).toMatch(/Successfully installed secrets-ledger-/);
  }, 120_000);

  it('imports from the environment, not from a source folder', async () => {
    rmSync(join(checkout, 'clients'), { recursive: true, force: true });
    mkdirSync(project);
    const where = await exec(venvPython, ['-c', 'import secrets_ledger, yaml; print(secrets_ledger.__file__)'], project, env);
    expect(where).toEqual({ status: 0, stdout: `${join(checkout, '.venv')}/lib/python${await pythonVersion()}/site-packages/secrets_ledger/__init__.py\n`, stderr: '' });
    // Control: the same interpreter without the environment has no such package, so what the
    // example below imports is the installed copy.
    const bare = await exec(python, ['-c', 'import secrets_ledger'], project, env);
    expect(bare.status).not.toBe(0);
    expect(bare.stderr).toMatch(/No module named 'secrets_ledger'/);
  });

  it("runs the SDK page's Python example against a real service", async () => {
    const nats = await sharedNats();
    const prefix = uniqueKey('pyinstall').toLowerCase();
    const service = await startServe({ SECRETS_DATA_DIR: join(scratch, 'data'), SECRETS_ADMIN_TOKEN: ADMIN_TOKEN, NATS_URL: nats.url, SECRETS_NATS_PREFIX: prefix });
    try {
      const api = (path: string, body: object) =>
        fetch(`${service.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect((await api('/api/v1/secrets', { key: 'FIFTYONE_CVAT_URL', value: 'https://cvat.example/ünï\ncode' })).status).toBe(201);
      const { token } = (await (await api('/api/v1/tokens', { name: 'python-install', role: 'executor' })).json()) as { token: string };
      mkdirSync(join(project, 'examples'));
      cpSync(join(ROOT, 'examples/annotation-plugin/fiftyone.yml'), join(project, 'examples/annotation-plugin/fiftyone.yml'));
      const example = markedBlock(join(ROOT, 'docs/SDK.md'), 'python-snippet');
      writeFileSync(join(project, 'example.py'), example.code);
      const ran = await exec(venvPython, ['example.py'], project, { ...env, SECRETS_URL: service.url, SECRETS_TOKEN: token, PYTHONIOENCODING: 'utf-8' });
      expect(ran).toEqual({ status: 0, stdout: 'CVAT at https://cvat.example/ünï\ncode, from the store\n', stderr: '' });
    } finally {
      await stop(service.child);
      await nats.dispose();
    }
  }, 60_000);

  async function pythonVersion(): Promise<string> {
    const ran = await exec(venvPython, ['-c', 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")'], project, env);
    return ran.stdout.trim();
  }
});
