import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectEventually } from '../support/expect-eventually';
import { markedBlock } from '../support/markdown-blocks';
import { acceptsConnections, freePort, sharedNats } from '../support/nats';

const ROOT = join(__dirname, '../..');


/**
 * The README's quick start, run by bash exactly as printed, in a fresh checkout-shaped folder
 * (the package and its build linked in, nothing else): so its `./data` and `ledger.log` are new.
 * Only the ports move, through the variables the service and the CLI read, since 3000 and 9464
 * may be taken on a shared machine; then the test stops the service the way the README says.
 */
describe('the README quick start', () => {
  let nats: Awaited<ReturnType<typeof sharedNats>>;
  const checkout = mkdtempSync(join(tmpdir(), 'secrets-ledger-quick-start-'));

  beforeAll(async () => {
    nats = await sharedNats();
    for (const entry of ['package.json', 'dist', 'node_modules', 'examples']) symlinkSync(join(ROOT, entry), join(checkout, entry));
  });
  afterAll(async () => {
    await nats.dispose();
    rmSync(checkout, { recursive: true, force: true });
  });

  it('runs as printed on a fresh data dir: adds two secrets and lists them, and stops on `kill %1`', async () => {
    const { language, code } = markedBlock(join(ROOT, 'README.md'), 'quick-start');
    expect(language).toBe('sh');
    const port = await freePort();
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      METRICS_PORT: String(await freePort()),
      SECRETS_URL: `http://127.0.0.1:${port}`,
      NATS_URL: nats.url,
      SECRETS_NATS_PREFIX: `quickstart${port}`,
    };
    // `set -e` so that a failing line fails the test; then the README's way to stop it.
    const script = `set -euo pipefail\n${code}(exec 3<>/dev/tcp/127.0.0.1/$PORT) && echo 'port open before the kill'\nkill %1\nwait %1 || true\n`;
    const run = spawn('bash', ['-c', script], { cwd: checkout, env });
    let stdout = '';
    let stderr = '';
    run.stdout.on('data', (chunk) => (stdout += chunk));
    run.stderr.on('data', (chunk) => (stderr += chunk));
    const status = await new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)));

    expect({ status, stderr: status === 0 ? '' : `${stderr}\n${readLog(checkout)}` }).toEqual({ status: 0, stderr: '' });
    expect(stdout).toMatch(/^FIFTYONE_CVAT_PASSWORD\s+1\b/m);
    expect(stdout).toMatch(/^FIFTYONE_CVAT_URL\s+1\b.*CVAT server/m);
    expect(stdout).not.toContain('correct horse battery staple');
    expect(stdout).toContain('port open before the kill');
    expect(existsSync(join(checkout, 'data/secrets.db'))).toBe(true);
    expect(readLog(checkout)).toMatch(/secrets-ledger listening on http:\/\/127\.0\.0\.1:\d+/);
    // `kill %1` reached the service itself, not only the npx wrapper in front of it: the port is
    // free within 5 s (the service closes its connections and stores the relay's position first).
    await expectEventually(async () => expect(await acceptsConnections(port)).toBe(false), 5_000);
  }, 120_000);
});

function readLog(checkout: string): string {
  const log = join(checkout, 'ledger.log');
  return existsSync(log) ? readFileSync(log, 'utf8') : '(no ledger.log)';
}
