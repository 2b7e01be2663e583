import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminApiFromEnvironment } from '../../src/cli/admin/admin-api';
import { chooseAuditSource } from '../../src/cli/audit/audit-source';
import { loadConfig } from '../../src/config/configuration';
import { natsOptionsFromEnv } from '../../src/nats/nats-options';
import { CLI, runNodeToEnd } from '../support/cli';
import { tempDataDir } from '../support/test-app';

/**
 * An environment that records every variable read from it, answering from `values` (unset
 * otherwise). Code that reads its configuration through an `env` argument shows here exactly
 * what it reads, including variables added after this test was written.
 */
function recording(values: Record<string, string> = {}): { env: NodeJS.ProcessEnv; read: Set<string> } {
  const read = new Set<string>();
  const env = new Proxy({} as NodeJS.ProcessEnv, {
    get: (_, name) => {
      if (typeof name !== 'string') return undefined;
      read.add(name);
      return values[name];
    },
  });
  return { env, read };
}

function readsOf(work: (env: NodeJS.ProcessEnv) => unknown, values?: Record<string, string>): Set<string> {
  const { env, read } = recording(values);
  try {
    work(env);
  } catch {
    // Invalid or incomplete configuration: what was read until then still counts.
  }
  return read;
}

const union = (...sets: Set<string>[]) => [...new Set(sets.flatMap((set) => [...set]))].sort();

/**
 * The --help text of every command of the built CLI, from one process: the real program, built
 * by dist/cli.js as for any run, walked instead of parsed (so a new command is checked too).
 */
async function everyHelp(): Promise<Record<string, string>> {
  const walker = `
    const { Command } = require('commander');
    Command.prototype.parseAsync = async function () {
      const helps = {};
      const walk = (command, path) => {
        let text = '';
        command.configureOutput({ writeOut: (chunk) => (text += chunk) });
        command.outputHelp();
        helps[path.join(' ')] = text;
        for (const sub of command.commands) if (sub.name() !== 'help') walk(sub, [...path, sub.name()]);
      };
      walk(this, []);
      process.stdout.write(JSON.stringify(helps));
    };
    require(${JSON.stringify(CLI)});
  `;
  const result = await runNodeToEnd(['-e', walker]);
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as Record<string, string>;
}

describe('every command --help lists the environment it reads', () => {
  const work = tempDataDir('secrets-ledger-env-help-');
  afterAll(() => work.cleanup());

  /** What each command reads, recorded from the code that reads it. */
  function expectedReads(): Array<[prefix: string[], variables: string[]]> {
    const caFile = join(work.dir, 'ca.pem');
    writeFileSync(caFile, 'not checked here');
    const config = union(
      readsOf((env) => loadConfig(env)),
      // Reads that depend on others being set (a database URL, production, credentials).
      readsOf((env) => loadConfig(env), { DATABASE_URL: 'postgres://h/db', NODE_ENV: 'production', HOST: '0.0.0.0', NATS_USER: 'u', NATS_PASSWORD: 'p' }),
    );
    const admin = union(readsOf((env) => adminApiFromEnvironment(env), { SECRETS_TOKEN: 't', SECRETS_CA_FILE: caFile }));
    const audit = union(
      ...[{}, { db: 'x.db' }, { source: 'postgres' }, { source: 'api' }, { source: 'file' }].flatMap((flags) => [
        readsOf((env) => chooseAuditSource(flags, env)),
        readsOf((env) => chooseAuditSource(flags, env), { SECRETS_TOKEN: 't', SECRETS_CA_FILE: caFile, DATABASE_URL: 'postgres://h/db' }),
      ]),
    );
    const run = union(readsOf((env) => natsOptionsFromEnv(env, [])), new Set(['SECRETS_URL', 'SECRETS_TOKEN', 'SECRETS_CA_FILE']));
    // Controls: the recording sees the reads these rely on.
    expect(config).toEqual(expect.arrayContaining(['DATABASE_URL', 'SECRETS_DATA_DIR', 'SECRETS_RATE_LIMIT_PER_MINUTE', 'NATS_TLS_CA_FILE']));
    expect(audit).toEqual(expect.arrayContaining(['DATABASE_URL', 'SECRETS_URL', 'SECRETS_TOKEN', 'SECRETS_CA_FILE', 'SECRETS_DATA_DIR']));
    expect(admin).toEqual(['SECRETS_CA_FILE', 'SECRETS_TOKEN', 'SECRETS_URL']);
    return [
      [['serve'], config],
      [['rebuild-read-model'], config],
      [['rotate-master-key'], union(new Set(config), new Set(admin))],
      [['audit'], audit],
      [['secrets'], admin],
      [['tokens'], admin],
      [['run'], run],
    ];
  }

  it('each command and subcommand: an Environment section naming every variable its code reads', async () => {
    const expected = expectedReads();
    const helps = Object.entries(await everyHelp()).filter(([command]) => command !== '');
    // A control that the walk found the commands the CLI has (the list is read from the CLI itself).
    expect(helps.map(([command]) => command)).toEqual(
      expect.arrayContaining(['serve', 'run', 'rotate-master-key', 'rebuild-read-model', 'audit', 'audit verify', 'audit export', 'secrets add', 'secrets import', 'tokens issue', 'tokens revoke']),
    );
    const missing: string[] = [];
    for (const [command, help] of helps) {
      const at = help.indexOf('\nEnvironment:\n');
      if (at < 0) missing.push(`${command}: no Environment section`);
      const variables = expected.find(([prefix]) => prefix[0] === command.split(' ')[0])?.[1];
      if (variables === undefined) {
        missing.push(`${command}: not known to this test`);
        continue;
      }
      const environment = help.slice(at);
      for (const variable of variables) if (!new RegExp(`\\b${variable}\\b`).test(environment)) missing.push(`${command}: ${variable}`);
    }
    expect(missing).toEqual([]);
  });

  it('the check sees a variable missing from a help (control)', async () => {
    const helps = await everyHelp();
    expect(helps['audit verify']).toContain('\nEnvironment:\n');
    expect(/\bSECRETS_RATE_LIMIT_PER_MINUTE\b/.test(helps['audit verify'].slice(helps['audit verify'].indexOf('\nEnvironment:\n')))).toBe(false);
  });
});
