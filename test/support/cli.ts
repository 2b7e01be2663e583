import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root: the nearest folder up with a package.json (this file also runs compiled, from .bench-build/). */
function repositoryRoot(from = __dirname): string {
  return existsSync(join(from, 'package.json')) || dirname(from) === from ? from : repositoryRoot(dirname(from));
}

/** The built CLI, as an operator runs it (npm test and npm run bench build first). */
export const CLI = join(repositoryRoot(), 'dist/cli.js');

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) {
  return spawnSync(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 120_000, cwd });
}

/**
 * Starts `serve`; resolves at the "listening" line with what was printed so far, and `output()`
 * for everything it prints until it stops (tests search it for values that must not appear).
 */
export function startServe(
  env: NodeJS.ProcessEnv,
  nodeArgs: string[] = [],
  cli = CLI,
): Promise<{ child: ChildProcess; stdout: string; url: string; output: () => string }> {
  const child = spawn(process.execPath, [...nodeArgs, cli, 'serve'], { env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', PORT: '0', METRICS_PORT: '0', ...env } });
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let listening = false;
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const match = /secrets-ledger listening on (\S+)/.exec(stdout);
      if (match && !listening) {
        listening = true;
        resolve({ child, stdout, url: match[1], output: () => stdout + stderr });
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
}

export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    // Already gone (killed by the test, or crashed): an 'exit' listener would wait forever.
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** The resident memory of a running process, from /proc (Linux). */
export function residentBytes(pid: number): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kib === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kib) * 1024;
}

/** The CLI without blocking this process (a test's own traffic keeps running), and its child to kill. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) {
  return spawnNode([CLI, ...args], env, cwd);
}

function spawnNode(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) {
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'], cwd });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (status, signal) => resolve({ status, signal, stdout, stderr })),
  );
  return { child, done };
}

/**
 * Runs the CLI to its end without blocking this process (the service answering it may run in
 * this very process, so spawnSync would deadlock). stdout and stderr are kept apart.
 */
export async function runCliToEnd(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 30_000,
  cwd?: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return runToEnd(spawnCli(args, env, cwd), timeoutMs);
}

/** Node with `args` (a script that drives the CLI's code, say), as runCliToEnd runs the CLI. */
export function runNodeToEnd(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000) {
  return runToEnd(spawnNode(args, env), timeoutMs);
}

async function runToEnd({ child, done }: ReturnType<typeof spawnNode>, timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const { status, stdout, stderr } = await done;
  clearTimeout(timer);
  return { status, stdout, stderr };
}

/**
 * `run --watch` of a command that appends the value of `key` it started with to `out`, one
 * line per start: `starts()` lists them, so a restart after a change shows as a new line.
 */
export function watchPluginRun(
  manifestPath: string,
  key: string,
  out: string,
  env: NodeJS.ProcessEnv,
): { starts: () => string[]; stderr: () => string; stop: () => Promise<void> } {
  const script = `require('fs').appendFileSync(${JSON.stringify(out)}, (process.env.${key} ?? '<unset>') + '\\n'); process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, [CLI, 'run', '--plugin', manifestPath, '--watch', '--', process.execPath, '-e', script], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return {
    starts: () => (existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n').filter(Boolean) : []),
    stderr: () => stderr,
    stop: () => stop(child),
  };
}
