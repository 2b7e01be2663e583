import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { python3With } from '../support/python';

const ROOT = join(__dirname, '../..');

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('close', (status) => resolve({ status, output }));
  });
}

/**
 * The Python client's own tests (pytest, clients/python/tests), each against a real `serve`
 * process they start from dist/ (npm test builds first) with this very Node. About 25 s on an
 * idle machine; the time limit leaves room for a loaded one.
 */
describe('the Python client (clients/python)', () => {
  it('passes its pytest suite against a real service', async () => {
    const python = python3With(['pytest', 'yaml'], ['python3-pytest', 'python3-yaml']);
    const { status, output } = await run(python, ['-m', 'pytest', '-p', 'no:cacheprovider', '-q', 'clients/python/tests'], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SECRETS_TEST_NODE: process.execPath,
      PYTHONDONTWRITEBYTECODE: '1',
    });
    if (status !== 0) throw new Error(`pytest exited with ${status}:\n${output}`);
    expect(output).toMatch(/\d+ passed/);
    expect(output).not.toMatch(/skipped|xfail/);
  }, 180_000);
});
