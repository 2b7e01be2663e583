import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from '../support/cli';
import { expectEventually } from '../support/expect-eventually';
import { ADMIN_TOKEN, tempDataDir, useTestApp } from '../support/test-app';

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The built CLI in a child process (never spawnSync: the service answering it runs in this process). */
function cli(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin?.end(stdin);
  });
}

const VERSION = (JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;

describe('secrets-ledger admin commands against a running service', () => {
  const t = useTestApp();
  const work = tempDataDir('secrets-ledger-admin-cli-');
  let env: NodeJS.ProcessEnv;
  let executor: string;
  const run = (args: string[], stdin?: string, extra: NodeJS.ProcessEnv = {}) => cli(args, { ...env, ...extra }, stdin);
  const json = async (args: string[], stdin?: string) => {
    const result = await run([...args, '--json'], stdin);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    return JSON.parse(result.stdout);
  };
  /** What an executor gets: the only way to see a stored value (admins never read one back). */
  const resolved = async (keys: string[]) => {
    const response = await t.request('/api/v1/resolve', { method: 'POST', token: executor, json: { plugin: '@acme/cli-check', keys } });
    expect(response.status).toBe(200);
    return ((await response.json()) as { secrets: Record<string, string> }).secrets;
  };

  /**
   * The CLI on a terminal (`script` gives it one): each step waits for a question, then types an
   * answer. Resolves with the exit code and everything the terminal showed.
   */
  const onTerminal = async (args: string[], steps: Array<[question: string, answer: string]>, extra: NodeJS.ProcessEnv = {}) => {
    if (spawnSync('script', ['--version']).error) throw new Error('this test needs script (apt-get install bsdutils)');
    const command = [process.execPath, CLI, ...args].map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...env, ...extra }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
    let seen = 0;
    for (const [question, answer] of steps) {
      // Each question after the previous answer: a repeated question is seen again.
      const at = await expectEventually(() => {
        const index = output.indexOf(question, seen);
        expect(index).toBeGreaterThanOrEqual(0);
        return index;
      });
      seen = at + question.length;
      child.stdin.write(`${answer}\r`);
    }
    return { status: await closed, output };
  };

  beforeAll(async () => {
    env = { PATH: process.env.PATH, SECRETS_URL: t.baseUrl, SECRETS_TOKEN: ADMIN_TOKEN };
    const issued = await json(['tokens', 'issue', '--name', 'cli-check', '--role', 'executor']);
    executor = issued.token;
    expect(executor).toMatch(/^slt_/);
  });
  afterAll(() => work.cleanup());

  it('--version on the program and on every command; --help lists the environment each command reads', async () => {
    for (const args of [['--version'], ['secrets', 'add', '--version'], ['tokens', '--version'], ['run', '--version']]) {
      const result = await run(args);
      expect({ args, status: result.status, out: result.stdout.trim() }).toEqual({ args, status: 0, out: VERSION });
    }
    const helps: Array<[string[], string[]]> = [
      [['secrets', 'list'], ['SECRETS_URL', 'SECRETS_TOKEN', 'SECRETS_CA_FILE']],
      [['secrets', 'import'], ['SECRETS_URL', 'SECRETS_TOKEN', 'SECRETS_CA_FILE']],
      [['tokens', 'issue'], ['SECRETS_URL', 'SECRETS_TOKEN', 'SECRETS_CA_FILE']],
      [['serve'], ['PORT', 'SECRETS_DATA_DIR', 'SECRETS_MASTER_KEYS', 'METRICS_PORT']],
      [['run'], ['SECRETS_URL', 'SECRETS_TOKEN', 'NATS_URL']],
      [['audit', 'verify'], ['SECRETS_DATA_DIR']],
    ];
    for (const [command, variables] of helps) {
      const result = await run([...command, '--help']);
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('Environment:');
      for (const variable of variables) expect(result.stdout).toContain(variable);
    }
  });

  it('a value given on standard input is stored, and is in neither the process list nor the output', async () => {
    const value = 'stdin-value-never-in-ps-4c1f9a';
    const child = spawn(process.execPath, [CLI, 'secrets', 'add', 'CLI_STDIN_KEY', '--description', 'piped'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
    // The value is written but stdin left open: the CLI is running, waiting for the end of it.
    child.stdin.write(value);
    const ps = await expectEventually(() => {
      const listing = spawnSync('ps', ['-eo', 'pid,args', '-ww'], { encoding: 'utf8' });
      if (listing.error) throw new Error('this test needs ps (apt-get install procps)');
      // Control: ps shows every argument of the running CLI, so a value given as one would show.
      expect(listing.stdout).toMatch(new RegExp(`${child.pid} .*secrets add CLI_STDIN_KEY --description piped`));
      return listing.stdout;
    });
    expect(ps).not.toContain(value);
    child.stdin.end('\n');
    expect(await closed).toBe(0);
    expect(output).toContain('CLI_STDIN_KEY');
    expect(output).not.toContain(value);
    expect(await resolved(['CLI_STDIN_KEY'])).toEqual({ CLI_STDIN_KEY: value });
  });

  it("a value piped in a shell session is not in the shell's history file", async () => {
    const value = 'history-value-never-written-e07b';
    const valueFile = join(work.dir, 'value.txt');
    const history = join(work.dir, 'bash_history');
    writeFileSync(valueFile, value, { mode: 0o600 });
    const script = join(work.dir, 'session.sh');
    // History on, as in an interactive shell: each line the shell reads is recorded.
    writeFileSync(
      script,
      ['set -o history', 'echo history-control-marker', `cat "$VALUE_FILE" | "$NODE" "$CLI_JS" secrets add CLI_HISTORY_KEY`, 'history -w', ''].join('\n'),
    );
    const result = await new Promise<CliResult>((resolve) => {
      const child = spawn('bash', ['--norc', '--noprofile', script], { env: { ...env, HISTFILE: history, VALUE_FILE: valueFile, NODE: process.execPath, CLI_JS: CLI } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.once('close', (status) => resolve({ status, stdout, stderr }));
    });
    expect(result.status).toBe(0);
    const recorded = readFileSync(history, 'utf8');
    // Control: the history holds the lines typed, including the command itself.
    expect(recorded).toContain('history-control-marker');
    expect(recorded).toContain('secrets add CLI_HISTORY_KEY');
    expect(recorded).not.toContain(value);
    expect(result.stdout + result.stderr).not.toContain(value);
    expect(await resolved(['CLI_HISTORY_KEY'])).toEqual({ CLI_HISTORY_KEY: value });
  });

  it('a value typed at the hidden prompt is asked twice, stored, and not echoed', async () => {
    const value = 'typed-at-the-prompt-value-55d0';
    const typed = await onTerminal(['secrets', 'add', 'CLI_PROMPT_KEY'], [
      ['Value for CLI_PROMPT_KEY (not shown): ', value],
      ['Again, to confirm: ', value],
    ]);
    expect(typed.status).toBe(0);
    expect(typed.output).toContain('CLI_PROMPT_KEY');
    expect(typed.output).not.toContain(value);
    expect(await resolved(['CLI_PROMPT_KEY'])).toEqual({ CLI_PROMPT_KEY: value });
  });

  it('two different values at the hidden prompt are refused and nothing is stored', async () => {
    const typed = await onTerminal(['secrets', 'add', 'CLI_PROMPT_TYPO_KEY'], [
      ['Value for CLI_PROMPT_TYPO_KEY (not shown): ', 'typo-value-first-7a1e'],
      ['Again, to confirm: ', 'typo-value-frist-7a1e'],
    ]);
    expect(typed.status).toBe(2);
    expect(typed.output).toContain('the two values typed for CLI_PROMPT_TYPO_KEY differ: nothing changed');
    expect(typed.output).not.toMatch(/typo-value/);
    expect((await run(['secrets', 'show', 'CLI_PROMPT_TYPO_KEY'])).status).toBe(3);
  });

  it('list, show, set (value from a file, description only, --if-version), history and rm, in tables and in JSON', async () => {
    expect((await run(['secrets', 'add', 'CLI_LIFECYCLE_KEY', '--description', 'first'], 'lifecycle-v1')).status).toBe(0);
    const valueFile = join(work.dir, 'v2.txt');
    writeFileSync(valueFile, 'lifecycle-v2\n');
    const set = await json(['secrets', 'set', 'CLI_LIFECYCLE_KEY', '--from-file', valueFile, '--if-version', '1']);
    expect(set).toMatchObject({ key: 'CLI_LIFECYCLE_KEY', version: 2, description: 'first' });
    expect(await resolved(['CLI_LIFECYCLE_KEY'])).toEqual({ CLI_LIFECYCLE_KEY: 'lifecycle-v2' });
    expect(await json(['secrets', 'set', 'CLI_LIFECYCLE_KEY', '--keep-value', '--description', 'second'])).toMatchObject({ version: 3, description: 'second' });
    expect(await resolved(['CLI_LIFECYCLE_KEY'])).toEqual({ CLI_LIFECYCLE_KEY: 'lifecycle-v2' });

    const list = await json(['secrets', 'list']);
    expect(list.items).toContainEqual(expect.objectContaining({ key: 'CLI_LIFECYCLE_KEY', version: 3 }));
    const table = await run(['secrets', 'list']);
    expect(table.stdout).toMatch(/^KEY +VERSION +UPDATED +BY +DESCRIPTION$/m);
    expect(table.stdout).toMatch(/^CLI_LIFECYCLE_KEY +3 +\S+ +\S+ +second$/m);
    expect(await json(['secrets', 'show', 'CLI_LIFECYCLE_KEY'])).toMatchObject({ key: 'CLI_LIFECYCLE_KEY', version: 3, description: 'second' });
    expect((await run(['secrets', 'show', 'CLI_LIFECYCLE_KEY'])).stdout).toMatch(/^version +3$/m);

    expect(await json(['secrets', 'rm', 'CLI_LIFECYCLE_KEY', '--if-version', '3', '--yes'])).toEqual({ key: 'CLI_LIFECYCLE_KEY', removed: true });
    const history = await json(['secrets', 'history', 'CLI_LIFECYCLE_KEY']);
    expect(history.items.map((entry: { type: string }) => entry.type)).toEqual(['SecretAdded', 'SecretUpdated', 'SecretUpdated', 'SecretRemoved']);
    expect((await run(['secrets', 'history', 'CLI_LIFECYCLE_KEY'])).stdout).toMatch(/^4 +SecretRemoved /m);
    const all = JSON.stringify(list) + table.stdout + JSON.stringify(history);
    expect(all).not.toContain('lifecycle-v');
  });

  it('--expires-at on add, set and import; show and list mark an expired secret; consumers lists who holds which version', async () => {
    expect((await run(['secrets', 'add', 'CLI_EXPIRING_KEY', '--expires-at', '2020-01-01T00:00:00+02:00'], 'expiring-v1')).status).toBe(0);
    expect(await json(['secrets', 'show', 'CLI_EXPIRING_KEY'])).toMatchObject({ expiresAt: '2019-12-31T22:00:00.000Z', expiry: 'expired' });
    expect((await run(['secrets', 'show', 'CLI_EXPIRING_KEY'])).stdout).toMatch(/^expiresAt +2019-12-31T22:00:00\.000Z \(EXPIRED\)$/m);
    expect((await run(['secrets', 'list'])).stdout).toMatch(/^CLI_EXPIRING_KEY +1 +\S+ +\S+ +2019-12-31T22:00:00\.000Z \(EXPIRED\)/m);
    const bad = await run(['secrets', 'set', 'CLI_EXPIRING_KEY', '--keep-value', '--expires-at', 'next-tuesday']);
    expect({ status: bad.status, stderr: bad.stderr }).toEqual({ status: 7, stderr: expect.stringMatching(/expiresAt/) });
    expect(await json(['secrets', 'set', 'CLI_EXPIRING_KEY', '--keep-value', '--expires-at', 'never'])).not.toHaveProperty('expiresAt');
    const file = join(work.dir, 'expiring.env');
    writeFileSync(file, 'CLI_IMPORTED_EXPIRING=imported\n');
    expect((await run(['secrets', 'import', file, '--yes', '--expires-at', '2031-05-17T08:30:00Z'])).status).toBe(0);
    expect(await json(['secrets', 'show', 'CLI_IMPORTED_EXPIRING'])).toMatchObject({ expiresAt: '2031-05-17T08:30:00.000Z' });

    expect((await run(['secrets', 'consumers', 'CLI_EXPIRING_KEY'])).stdout).toBe('(nobody has resolved CLI_EXPIRING_KEY)\n');
    await resolved(['CLI_EXPIRING_KEY']);
    await run(['secrets', 'set', 'CLI_EXPIRING_KEY'], 'expiring-v3');
    expect((await json(['secrets', 'consumers', 'CLI_EXPIRING_KEY'])).items).toEqual([
      expect.objectContaining({ tokenName: 'cli-check', plugin: '@acme/cli-check', version: 2, current: false }),
    ]);
    expect((await run(['secrets', 'consumers', 'CLI_EXPIRING_KEY'])).stdout).toMatch(/^cli-check \(tok_\S+\) +@acme\/cli-check +2 +\S+ +old$/m);
  });

  it('exit codes say what happened (docs/CLI.md, "Admin commands")', async () => {
    expect((await run(['secrets', 'add', 'CLI_CODES_KEY'], 'codes-v1')).status).toBe(0);
    const cases: Array<[string, string[], string | undefined, NodeJS.ProcessEnv, number, RegExp]> = [
      ['exists', ['secrets', 'add', 'CLI_CODES_KEY'], 'again', {}, 4, /409/],
      ['stale version', ['secrets', 'set', 'CLI_CODES_KEY', '--if-version', '9'], 'x', {}, 4, /412/],
      ['no such secret', ['secrets', 'show', 'CLI_NO_SUCH_KEY'], undefined, {}, 3, /404/],
      ['no such token', ['tokens', 'revoke', 'tok_nope'], undefined, {}, 3, /404/],
      ['unknown token', ['secrets', 'list'], undefined, { SECRETS_TOKEN: 'slt_unknown-token-0000000000000000000000000' }, 5, /401/],
      ['not an admin', ['secrets', 'list'], undefined, { SECRETS_TOKEN: executor }, 5, /403/],
      ['invalid key', ['secrets', 'add', 'lower_case'], 'v', {}, 7, /400/],
      ['unreachable', ['secrets', 'list'], undefined, { SECRETS_URL: 'http://127.0.0.1:9' }, 6, /cannot reach the service/],
      ['no token set', ['secrets', 'list'], undefined, { SECRETS_TOKEN: '' }, 2, /set SECRETS_TOKEN/],
      ['empty value', ['secrets', 'add', 'CLI_EMPTY_KEY'], '', {}, 2, /no value for CLI_EMPTY_KEY/],
      ['unknown option', ['secrets', 'list', '--colour'], undefined, {}, 2, /unknown option/],
      ['missing argument', ['secrets', 'show'], undefined, {}, 2, /missing required argument/],
    ];
    for (const [label, args, stdin, extra, code, message] of cases) {
      const result = await run(args, stdin, extra);
      expect({ label, status: result.status, stderr: result.stderr }).toEqual({ label, status: code, stderr: expect.stringMatching(message) });
    }
  });

  it('import: a dry run first, then one event per new key with --yes, an existing key kept (comments, quotes, export, a multi-line value, a repeat)', async () => {
    expect((await run(['secrets', 'add', 'CLI_IMPORT_EXISTING'], 'before-import')).status).toBe(0);
    const file = join(work.dir, 'plugin.env');
    writeFileSync(
      file,
      [
        '# annotation backends',
        'export CLI_IMPORT_URL=https://cvat.example # trailing comment',
        "CLI_IMPORT_SINGLE='single # not a comment'",
        'CLI_IMPORT_PEM="-----BEGIN KEY-----',
        'line two',
        '-----END KEY-----"',
        'CLI_IMPORT_EXISTING="after import"',
        'CLI_IMPORT_URL=https://cvat.example/final',
        '',
      ].join('\n'),
    );
    const dry = await run(['secrets', 'import', file]);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toMatch(/^add +CLI_IMPORT_URL +new$/m);
    expect(dry.stdout).toMatch(/^keep +CLI_IMPORT_EXISTING +1$/m);
    expect(dry.stderr).toContain('nothing changed (run with --yes to apply); 1 existing key(s) kept as they are (--overwrite replaces them)');
    expect((await json(['secrets', 'list'])).items.map((s: { key: string }) => s.key)).not.toContain('CLI_IMPORT_URL');

    const applied = await json(['secrets', 'import', file, '--yes']);
    expect(applied.applied).toBe(true);
    expect(applied.changes).toEqual([
      { key: 'CLI_IMPORT_URL', action: 'add', version: 1 },
      { key: 'CLI_IMPORT_SINGLE', action: 'add', version: 1 },
      { key: 'CLI_IMPORT_PEM', action: 'add', version: 1 },
      { key: 'CLI_IMPORT_EXISTING', action: 'keep', fromVersion: 1 },
    ]);
    expect(await resolved(['CLI_IMPORT_URL', 'CLI_IMPORT_SINGLE', 'CLI_IMPORT_PEM', 'CLI_IMPORT_EXISTING'])).toEqual({
      CLI_IMPORT_URL: 'https://cvat.example/final',
      CLI_IMPORT_SINGLE: 'single # not a comment',
      CLI_IMPORT_PEM: '-----BEGIN KEY-----\nline two\n-----END KEY-----',
      CLI_IMPORT_EXISTING: 'before-import',
    });
    for (const key of ['CLI_IMPORT_URL', 'CLI_IMPORT_PEM', 'CLI_IMPORT_EXISTING']) expect((await json(['secrets', 'history', key])).items).toHaveLength(1);
    expect(JSON.stringify(applied) + dry.stdout + dry.stderr).not.toMatch(/cvat\.example|BEGIN KEY|after import/);
  });

  it('import of the same file twice writes nothing the second time; --overwrite gives every existing key a new version', async () => {
    const keys = ['CLI_TWICE_A', 'CLI_TWICE_B', 'CLI_TWICE_C'];
    const file = join(work.dir, 'twice.env');
    writeFileSync(file, keys.map((key) => `${key}=${key.toLowerCase()}-from-file`).join('\n'));
    expect((await run(['secrets', 'add', 'CLI_TWICE_B'], 'b-set-by-hand')).status).toBe(0);
    const versions = async () => Object.fromEntries((await json(['secrets', 'list'])).items.filter((s: { key: string }) => keys.includes(s.key)).map((s: { key: string; version: number }) => [s.key, s.version]));

    const first = await json(['secrets', 'import', file, '--yes']);
    expect(first.changes.map((c: { key: string; action: string }) => [c.key, c.action])).toEqual([['CLI_TWICE_A', 'add'], ['CLI_TWICE_B', 'keep'], ['CLI_TWICE_C', 'add']]);
    expect(await versions()).toEqual({ CLI_TWICE_A: 1, CLI_TWICE_B: 1, CLI_TWICE_C: 1 });

    const again = await run(['secrets', 'import', file, '--yes']);
    expect(again.status).toBe(0);
    for (const key of keys) expect(again.stdout).toMatch(new RegExp(`^keep +${key} +1$`, 'm'));
    expect(again.stderr).toContain('nothing to change; 3 existing key(s) kept as they are (--overwrite replaces them)');
    expect(await versions()).toEqual({ CLI_TWICE_A: 1, CLI_TWICE_B: 1, CLI_TWICE_C: 1 });
    expect(await resolved(keys)).toEqual({ CLI_TWICE_A: 'cli_twice_a-from-file', CLI_TWICE_B: 'b-set-by-hand', CLI_TWICE_C: 'cli_twice_c-from-file' });

    const preview = await run(['secrets', 'import', file, '--overwrite']);
    for (const key of keys) expect(preview.stdout).toMatch(new RegExp(`^overwrite +${key} +1 -> 2$`, 'm'));
    expect(await versions()).toEqual({ CLI_TWICE_A: 1, CLI_TWICE_B: 1, CLI_TWICE_C: 1 });
    const overwritten = await json(['secrets', 'import', file, '--overwrite', '--yes']);
    expect(overwritten.changes).toEqual(keys.map((key) => ({ key, action: 'overwrite', fromVersion: 1, version: 2 })));
    expect(await resolved(['CLI_TWICE_B'])).toEqual({ CLI_TWICE_B: 'cli_twice_b-from-file' });
  });

  it('import on a terminal shows the changes and applies them only after a yes', async () => {
    const file = join(work.dir, 'asked.env');
    writeFileSync(file, 'CLI_ASKED_KEY=asked-value\n');
    const answer = (yes: string) => onTerminal(['secrets', 'import', file], [['Apply 1 change(s)? [y/N] ', yes]]);
    const declined = await answer('n');
    expect(declined.status).toBe(0);
    expect(declined.output).toMatch(/add +CLI_ASKED_KEY +new/);
    expect(declined.output).toContain('nothing changed');
    expect((await json(['secrets', 'list'])).items.map((s: { key: string }) => s.key)).not.toContain('CLI_ASKED_KEY');
    const accepted = await answer('y');
    expect(accepted.status).toBe(0);
    expect(accepted.output).toContain('applied 1 change(s)');
    expect(await resolved(['CLI_ASKED_KEY'])).toEqual({ CLI_ASKED_KEY: 'asked-value' });
  });

  it('rm asks on a terminal and removes only after a yes; without a terminal it needs --yes', async () => {
    expect((await run(['secrets', 'add', 'CLI_RM_KEY'], 'rm-me')).status).toBe(0);
    const question = /Remove CLI_RM_KEY \(version 1, updated \S+ by \S+\)\? Executors stop receiving it at once\. \[y\/N\] /;

    const unattended = await run(['secrets', 'rm', 'CLI_RM_KEY']);
    expect(unattended.status).toBe(2);
    expect(unattended.stderr).toContain('CLI_RM_KEY not removed: nobody to ask without a terminal; pass --yes to remove it');
    const declined = await onTerminal(['secrets', 'rm', 'CLI_RM_KEY'], [['[y/N] ', 'n']]);
    expect(declined.output).toMatch(question);
    expect(declined.output).toContain('CLI_RM_KEY not removed');
    expect(declined.status).toBe(0);
    expect(await resolved(['CLI_RM_KEY'])).toEqual({ CLI_RM_KEY: 'rm-me' });

    const accepted = await onTerminal(['secrets', 'rm', 'CLI_RM_KEY'], [['[y/N] ', 'y']]);
    expect(accepted.status).toBe(0);
    expect(accepted.output).toContain('removed CLI_RM_KEY');
    expect(await resolved(['CLI_RM_KEY'])).toEqual({});

    // On a terminal, --yes asks nothing; a key that is not there is said to be missing, not asked about.
    expect((await run(['secrets', 'add', 'CLI_RM_KEY'], 'rm-me-again')).status).toBe(0);
    const unasked = await onTerminal(['secrets', 'rm', 'CLI_RM_KEY', '--yes'], []);
    expect(unasked.status).toBe(0);
    expect(unasked.output).not.toContain('[y/N]');
    const missing = await onTerminal(['secrets', 'rm', 'CLI_RM_NO_SUCH_KEY'], []);
    expect(missing.status).toBe(3);
    expect(missing.output).not.toContain('[y/N]');
  });

  // Each command is a process of its own (a few seconds each on a busy machine): more than the default 30 s.
  const values = ['cli-rollback-one-5d1c', 'cli-rollback-two-8e2f'];
  it('rollback --to makes an old value current without printing it', async () => {
    expect((await run(['secrets', 'add', 'CLI_VERSIONED_KEY'], values[0])).status).toBe(0);
    expect((await run(['secrets', 'set', 'CLI_VERSIONED_KEY'], values[1])).status).toBe(0);
    const rolled = await run(['secrets', 'rollback', 'CLI_VERSIONED_KEY', '--to', '1']);
    expect(rolled.status).toBe(0);
    expect(rolled.stdout).toMatch(/version +3/);
    expect(await resolved(['CLI_VERSIONED_KEY'])).toEqual({ CLI_VERSIONED_KEY: values[0] });
    expect(rolled.stdout + rolled.stderr).not.toContain(values[0]);
    expect((await run(['secrets', 'rollback', 'CLI_VERSIONED_KEY', '--to', '3'])).status).toBe(4);
    expect((await run(['secrets', 'rollback', 'CLI_VERSIONED_KEY', '--to', '2', '--if-version', '2'])).status).toBe(4);
    expect((await json(['secrets', 'rollback', 'CLI_VERSIONED_KEY', '--to', '2'])).version).toBe(4);
  }, 120_000);

  it('destroy asks on a terminal and needs --yes without one; a destroyed version cannot be rolled back to', async () => {
    const unattended = await run(['secrets', 'destroy', 'CLI_VERSIONED_KEY', '--version', '1']);
    expect(unattended.status).toBe(2);
    expect(unattended.stderr).toContain('not destroyed: nobody to ask without a terminal; pass --yes to destroy it');
    const declined = await onTerminal(['secrets', 'destroy', 'CLI_VERSIONED_KEY', '--version', '1'], [['[y/N] ', 'n']]);
    expect(declined.output).toMatch(/Destroy the value of CLI_VERSIONED_KEY version 1 \(SecretAdded \S+ by \S+\)\? It can never be read, resolved or rolled back to again/);
    expect(declined.output).toContain('CLI_VERSIONED_KEY version 1 not destroyed');
    expect((await json(['secrets', 'history', 'CLI_VERSIONED_KEY'])).items[0].destroyed).toBeUndefined();
    const accepted = await onTerminal(['secrets', 'destroy', 'CLI_VERSIONED_KEY', '--version', '1'], [['[y/N] ', 'y']]);
    expect(accepted.status).toBe(0);
    expect(accepted.output).toContain('destroyed CLI_VERSIONED_KEY version 1');
    expect((await onTerminal(['secrets', 'destroy', 'CLI_VERSIONED_KEY', '--version', '9'], [])).status).toBe(3);
    // Version 4 holds the current value: update or remove first.
    const current = await run(['secrets', 'destroy', 'CLI_VERSIONED_KEY', '--version', '4', '--yes']);
    expect(current.status).toBe(4);
    expect(current.stderr).toContain('update or remove the secret first');
    expect(await json(['secrets', 'destroy', 'CLI_VERSIONED_KEY', '--version', '2', '--yes'])).toEqual({ key: 'CLI_VERSIONED_KEY', version: 2, destroyed: true });

    expect((await run(['secrets', 'rollback', 'CLI_VERSIONED_KEY', '--to', '1'])).status).toBe(4);
    const history = await run(['secrets', 'history', 'CLI_VERSIONED_KEY']);
    expect(history.stdout).toMatch(/^1 +SecretAdded .* destroyed \S+ by /m);
    expect(history.stdout).toMatch(/^3 +SecretRolledBack .* version 1's/m);
    expect(await resolved(['CLI_VERSIONED_KEY'])).toEqual({ CLI_VERSIONED_KEY: values[1] });
  }, 120_000);

  it('import refuses a file with an invalid key and changes nothing', async () => {
    const file = join(work.dir, 'bad.env');
    writeFileSync(file, 'CLI_IMPORT_OK=fine\nlower_key=nope\n');
    const result = await run(['secrets', 'import', file, '--yes']);
    expect(result.status).toBe(7);
    expect(result.stderr).toMatch(/lower_key: not a valid secret key/);
    expect((await json(['secrets', 'list'])).items.map((s: { key: string }) => s.key)).not.toContain('CLI_IMPORT_OK');
  });

  it('SECRETS_TOKEN is taken without surrounding whitespace and without a Bearer prefix; a token with a break inside is named, not sent', async () => {
    // Every way a token arrives pasted: from a file (a trailing newline), a header (Bearer), a shell.
    const befores = ['', ' ', '\t', 'Bearer ', 'bearer  ', ' Bearer\t'];
    const afters = ['', '\n', '\r\n', '  '];
    for (const [i, before] of befores.entries()) {
      const token = `${before}${ADMIN_TOKEN}${afters[i % afters.length]}`;
      const result = await run(['secrets', 'list', '--json'], undefined, { SECRETS_TOKEN: token });
      expect({ token, status: result.status, stderr: result.stderr }).toEqual({ token, status: 0, stderr: '' });
    }
    const broken = await run(['secrets', 'list'], undefined, { SECRETS_TOKEN: `${ADMIN_TOKEN.slice(0, 20)}\n${ADMIN_TOKEN.slice(20)}` });
    expect(broken.status).toBe(2);
    expect(broken.stderr).toContain('SECRETS_TOKEN holds characters no token has');
    expect(broken.stderr).not.toContain(ADMIN_TOKEN.slice(0, 20));
    expect((await run(['secrets', 'list'], undefined, { SECRETS_TOKEN: ' \n' })).stderr).toMatch(/set SECRETS_TOKEN/);
  });

  it('a SECRETS_URL that is not an http(s) address is named with what is expected, and never echoed', async () => {
    const port = new URL(t.baseUrl).port;
    // Host:port without a scheme (the classic), other schemes, a typo'd scheme, a token pasted into the wrong variable.
    const malformed = [`127.0.0.1:${port}`, `localhost:${port}`, `ftp://127.0.0.1:${port}`, `http//127.0.0.1:${port}`, 'http://exa mple.com', ADMIN_TOKEN];
    for (const url of malformed) {
      const result = await run(['secrets', 'list'], undefined, { SECRETS_URL: url });
      expect({ url, status: result.status }).toEqual({ url, status: 2 });
      expect(result.stderr).toMatch(/^secrets-ledger: SECRETS_URL .*expected an address such as http:\/\/127\.0\.0\.1:3000/);
      expect(result.stderr).not.toContain(url.replace(/^\w+:\/\//, ''));
      expect(result.stderr).not.toContain('Invalid URL');
    }
  });

  it('a SECRETS_URL ending in /api/v1 (with or without a slash) is the service itself', async () => {
    for (const url of [`${t.baseUrl}/api/v1`, `${t.baseUrl}/api/v1/`, `${t.baseUrl}/`]) {
      const result = await run(['secrets', 'list', '--json'], undefined, { SECRETS_URL: url });
      expect({ url, status: result.status, stderr: result.stderr }).toEqual({ url, status: 0, stderr: '' });
      expect(JSON.parse(result.stdout).items.length).toBeGreaterThan(0);
    }
  });

  it('https:// against the plain-HTTP service says so in one line', async () => {
    const { host } = new URL(t.baseUrl);
    const result = await run(['secrets', 'list'], undefined, { SECRETS_URL: `https://${host}` });
    expect(result.status).toBe(6);
    expect(result.stderr).toBe(`secrets-ledger: cannot reach the service at https://${host}: ${host} answers plain HTTP, not HTTPS: use http://${host}\n`);
  });

  it('tokens issue takes plugins comma-separated, space-separated and repeated alike; a --plugin that names none is refused', async () => {
    const issued = await json(['tokens', 'issue', '--name', 'listed-plugins', '--role', 'executor', '--plugin', '@acme/a,@acme/b', '--plugin', ' @acme/c  @acme/a,', '--plugin', '@acme/d']);
    expect(issued.plugins).toEqual(['@acme/a', '@acme/b', '@acme/c', '@acme/d']);
    const unnamed = await run(['tokens', 'issue', '--name', 'no-plugins', '--role', 'executor', '--plugin', ' , ']);
    expect(unnamed.status).toBe(2);
    expect(unnamed.stderr).toContain('--plugin names no plugin');
    expect((await json(['tokens', 'list'])).items.map((token: { name: string }) => token.name)).not.toContain('no-plugins');
  });

  it('tokens issue (limited to plugins), list and revoke', async () => {
    const issued = await json(['tokens', 'issue', '--name', 'cvat-runner', '--role', 'executor', '--plugin', '@voxel51/annotation', '--plugin', '@acme/other']);
    expect(issued).toMatchObject({ name: 'cvat-runner', role: 'executor', plugins: ['@voxel51/annotation', '@acme/other'], token: expect.stringMatching(/^slt_/) });
    const human = await run(['tokens', 'issue', '--name', 'auditor-1', '--role', 'auditor']);
    expect(human.status).toBe(0);
    expect(human.stdout.trim().split('\n').at(-1)).toMatch(/^slt_[A-Za-z0-9_-]+$/);

    const listed = await json(['tokens', 'list']);
    expect(listed.items).toContainEqual(expect.objectContaining({ id: issued.id, name: 'cvat-runner', revokedAt: null }));
    expect(JSON.stringify(listed)).not.toContain(issued.token);
    const table = (await run(['tokens', 'list'])).stdout;
    expect(table).toMatch(/^ID +NAME +ROLE +PLUGINS +CREATED +REVOKED +LAST USED$/m);
    // Unused: "never"; the CLI's own admin token has been used, to the minute.
    expect(table).toMatch(new RegExp(`^${issued.id} +cvat-runner +executor +@voxel51/annotation,@acme/other .* never$`, 'm'));
    expect(table).toMatch(/^tok_\S+ +bootstrap-admin +admin .* \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/m);
    expect(listed.items).toContainEqual(expect.objectContaining({ id: issued.id, lastUsedAt: null }));

    expect(await json(['tokens', 'revoke', issued.id])).toEqual({ id: issued.id, revoked: true });
    expect((await json(['tokens', 'list'])).items).toContainEqual(expect.objectContaining({ id: issued.id, revokedAt: expect.any(String) }));
    expect((await run(['tokens', 'revoke', issued.id])).status).toBe(3);
  });
});
