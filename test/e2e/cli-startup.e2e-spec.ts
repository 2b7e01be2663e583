import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from '../support/cli';
import { tempDataDir } from '../support/test-app';

/**
 * The CLI loads what a command needs when that command runs: Nest for `serve`, the SDK and NATS
 * for `run`, the database drivers for the audit commands that read a database. Loaded at start,
 * they tripled the time of every admin command and of --help (1.4 s against 0.4 s here).
 */
const HEAVY = ['typeorm', 'pg', 'better-sqlite3', 'nats', '@nestjs/core', 'cli-progress'];

/** The packages a CLI invocation loaded, read from a require hook in the child. */
function packagesLoadedBy(args: string[], env: NodeJS.ProcessEnv, dir: string): string[] {
  const out = join(dir, 'loaded.txt');
  const hookFile = join(dir, 'record-loads.js');
  const hook = `
    const Module = require('module');
    const load = Module._load;
    const seen = new Set();
    Module._load = function (request, parent, isMain) {
      const file = Module._resolveFilename(request, parent, isMain);
      const match = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(file);
      if (match) seen.add(match[1]);
      return load.apply(this, arguments);
    };
    process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, [...seen].join('\\n')));`;
  writeFileSync(hookFile, hook);
  const result = spawnSync(process.execPath, ['--require', hookFile, CLI, ...args], {
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(result.error).toBeUndefined();
  return readFileSync(out, 'utf8').split('\n').filter(Boolean);
}

describe('CLI start-up', () => {
  const work = tempDataDir('secrets-ledger-cli-startup-');
  afterAll(() => work.cleanup());

  it.each([
    [['--help'], {}],
    [['secrets', 'list'], { SECRETS_URL: 'http://127.0.0.1:9', SECRETS_TOKEN: 'slt_never-sent-anywhere-000000000000000000000' }],
    [['audit', '--help'], {}],
    [['tokens', 'list', '--help'], {}],
  ])('%j loads no database driver, TypeORM, NATS or Nest', (args, env) => {
    const loaded = packagesLoadedBy(args, env, work.dir);
    // The hook sees packages at all: commander parses every command line.
    expect(loaded).toContain('commander');
    expect(loaded.filter((name) => HEAVY.includes(name))).toEqual([]);
  });

  it('the audit commands that read a database still load its driver (positive control)', () => {
    const loaded = packagesLoadedBy(['audit', 'verify', '--db', join(work.dir, 'missing.db')], {}, work.dir);
    expect(loaded).toEqual(expect.arrayContaining(['better-sqlite3']));
  });
});
