import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCheckpointLines } from '../../src/checkpoints/checkpoint';
import { startServe, stop } from '../support/cli';
import { expectEventually } from '../support/expect-eventually';
import { ADMIN_TOKEN, tempDataDir } from '../support/test-app';

/**
 * The file sink after a SIGKILL of `serve` while checkpoints are being written: the checkpoint
 * event commits first and the sink is fed from a stored position, so a restart ships what the
 * killed process had not, and the file ends up holding every checkpoint of the log, each once,
 * in order.
 */
describe('the checkpoint file sink across a SIGKILL', () => {
  const data = tempDataDir();
  const sinkFile = join(data.dir, 'off-the-box', 'checkpoints.jsonl');
  const env = {
    SECRETS_DATA_DIR: data.dir,
    SECRETS_ADMIN_TOKEN: ADMIN_TOKEN,
    SECRETS_CHECKPOINT_EVENTS: '2',
    SECRETS_CHECKPOINT_SINK: `file:${sinkFile}`,
    NATS_URL: 'nats://127.0.0.1:1',
  };
  afterAll(() => data.cleanup());

  const call = (url: string, path: string, json?: unknown) =>
    fetch(`${url}${path}`, {
      method: json === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
  const inFile = () => (existsSync(sinkFile) && readFileSync(sinkFile, 'utf8').trim() !== '' ? parseCheckpointLines(readFileSync(sinkFile, 'utf8')) : []);

  it('holds every checkpoint of the log after a restart, each once, in order', async () => {
    require('node:fs').mkdirSync(join(data.dir, 'off-the-box'));
    const first = await startServe(env);
    let writes = 0;
    let killed = false;
    // Writes keep coming until the kill, so checkpoints are being written when it lands.
    const writer = (async () => {
      while (!killed) await call(first.url, '/api/v1/secrets', { key: `CRASH_${++writes}`, value: 'v' }).catch(() => undefined);
    })();
    await expectEventually(() => expect(inFile().length).toBeGreaterThanOrEqual(3), 20_000, 50);
    first.child.kill('SIGKILL');
    killed = true;
    await writer;
    const atKill = inFile();

    const second = await startServe(env);
    try {
      const listed = async () => (await (await call(second.url, '/api/v1/audit/checkpoints?limit=1000')).json()).items;
      await expectEventually(async () => {
        const ready = await (await fetch(`${second.url}/health/ready`)).json();
        expect(ready.details.checkpointSink).toMatchObject({ status: 'up', sink: 'file', pending: 0 });
      }, 20_000, 100);
      const logged = await listed();
      expect(logged.length).toBeGreaterThanOrEqual(atKill.length);
      expect(inFile()).toEqual(logged);
      // What the killed process had shipped is where it was: the file only grew.
      expect(logged.slice(0, atKill.length)).toEqual(atKill);
    } finally {
      await stop(second.child);
    }
  });
});
