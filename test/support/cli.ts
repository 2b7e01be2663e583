import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The built CLI, as an operator runs it (npm test builds first). */
export const CLI = join(__dirname, '../../dist/cli.js');

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 20_000 });
}
