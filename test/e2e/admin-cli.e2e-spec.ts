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

  it('a value typed at the hidden prompt is stored and not echoed', async () => {
    if (spawnSync('script', ['--version']).error) throw new Error('this test needs script (apt-get install bsdutils)');
    const value = 'typed-at-the-prompt-value-55d0';
    const command = `"${process.execPath}" "${CLI}" secrets add CLI_PROMPT_KEY`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
    await expectEventually(() => expect(output).toContain('Value for CLI_PROMPT_KEY (not shown): '));
    child.stdin.write(`${value}\r`);
    expect(await closed).toBe(0);
    expect(output).toContain('CLI_PROMPT_KEY');
    expect(output).not.toContain(value);
    expect(await resolved(['CLI_PROMPT_KEY'])).toEqual({ CLI_PROMPT_KEY: value });
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

    expect(await json(['secrets', 'rm', 'CLI_LIFECYCLE_KEY', '--if-version', '3'])).toEqual({ key: 'CLI_LIFECYCLE_KEY', removed: true });
    const history = await json(['secrets', 'history', 'CLI_LIFECYCLE_KEY']);
    expect(history.items.map((entry: { type: string }) => entry.type)).toEqual(['SecretAdded', 'SecretUpdated', 'SecretUpdated', 'SecretRemoved']);
    expect((await run(['secrets', 'history', 'CLI_LIFECYCLE_KEY'])).stdout).toMatch(/^4 +SecretRemoved /m);
    const all = JSON.stringify(list) + table.stdout + JSON.stringify(history);
    expect(all).not.toContain('lifecycle-v');
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

  it('import: a dry run first, then one event per key with --yes (comments, quotes, export, a multi-line value, a repeat)', async () => {
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
    expect(dry.stdout).toMatch(/^update +CLI_IMPORT_EXISTING +1 -> 2$/m);
    expect(dry.stderr).toContain('nothing changed');
    expect((await json(['secrets', 'list'])).items.map((s: { key: string }) => s.key)).not.toContain('CLI_IMPORT_URL');

    const applied = await json(['secrets', 'import', file, '--yes']);
    expect(applied.applied).toBe(true);
    expect(applied.changes).toEqual([
      { key: 'CLI_IMPORT_URL', action: 'add', version: 1 },
      { key: 'CLI_IMPORT_SINGLE', action: 'add', version: 1 },
      { key: 'CLI_IMPORT_PEM', action: 'add', version: 1 },
      { key: 'CLI_IMPORT_EXISTING', action: 'update', fromVersion: 1, version: 2 },
    ]);
    expect(await resolved(['CLI_IMPORT_URL', 'CLI_IMPORT_SINGLE', 'CLI_IMPORT_PEM', 'CLI_IMPORT_EXISTING'])).toEqual({
      CLI_IMPORT_URL: 'https://cvat.example/final',
      CLI_IMPORT_SINGLE: 'single # not a comment',
      CLI_IMPORT_PEM: '-----BEGIN KEY-----\nline two\n-----END KEY-----',
      CLI_IMPORT_EXISTING: 'after import',
    });
    for (const key of ['CLI_IMPORT_URL', 'CLI_IMPORT_PEM']) expect((await json(['secrets', 'history', key])).items).toHaveLength(1);
    expect(JSON.stringify(applied) + dry.stdout + dry.stderr).not.toMatch(/cvat\.example|BEGIN KEY|after import/);
  });

  it('import on a terminal shows the changes and applies them only after a yes', async () => {
    if (spawnSync('script', ['--version']).error) throw new Error('this test needs script (apt-get install bsdutils)');
    const file = join(work.dir, 'asked.env');
    writeFileSync(file, 'CLI_ASKED_KEY=asked-value\n');
    const onTerminal = async (answer: string) => {
      const child = spawn('script', ['-qfec', `"${process.execPath}" "${CLI}" secrets import "${file}"`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
      await expectEventually(() => expect(output).toContain('Apply 1 change(s)? [y/N] '));
      expect(output).toMatch(/add +CLI_ASKED_KEY +new/);
      child.stdin.write(`${answer}\r`);
      return { status: await closed, output };
    };
    const declined = await onTerminal('n');
    expect(declined.status).toBe(0);
    expect(declined.output).toContain('nothing changed');
    expect((await json(['secrets', 'list'])).items.map((s: { key: string }) => s.key)).not.toContain('CLI_ASKED_KEY');
    const accepted = await onTerminal('y');
    expect(accepted.status).toBe(0);
    expect(accepted.output).toContain('applied 1 change(s)');
    expect(await resolved(['CLI_ASKED_KEY'])).toEqual({ CLI_ASKED_KEY: 'asked-value' });
  });

  it('import refuses a file with an invalid key and changes nothing', async () => {
    const file = join(work.dir, 'bad.env');
    writeFileSync(file, 'CLI_IMPORT_OK=fine\nlower_key=nope\n');
    const result = await run(['secrets', 'import', file, '--yes']);
    expect(result.status).toBe(7);
    expect(result.stderr).toMatch(/lower_key: not a valid secret key/);
    expect((await json(['secrets', 'list'])).items.map((s: { key: string }) => s.key)).not.toContain('CLI_IMPORT_OK');
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
    expect((await run(['tokens', 'list'])).stdout).toMatch(new RegExp(`^${issued.id} +cvat-runner +executor +@voxel51/annotation,@acme/other `, 'm'));

    expect(await json(['tokens', 'revoke', issued.id])).toEqual({ id: issued.id, revoked: true });
    expect((await json(['tokens', 'list'])).items).toContainEqual(expect.objectContaining({ id: issued.id, revokedAt: expect.any(String) }));
    expect((await run(['tokens', 'revoke', issued.id])).status).toBe(3);
  });
});
