import { readFileSync } from 'node:fs';
import { Server, createServer } from 'node:https';
import type { SignedCheckpoint } from '../../src/checkpoints/checkpoint';
import { Metrics } from '../../src/metrics/metrics';
import { makeTestPki } from '../support/certificates';
import { expectEventually } from '../support/expect-eventually';
import { freePort } from '../support/nats';
import { useTestApp } from '../support/test-app';

/**
 * An https sink that cannot be reached: the checkpoints wait in the log, readiness and the
 * metrics say so (the service stays ready: it still does its job), and when the sink comes
 * back it receives every one, in order, trusting the sink's certificate through the CA file.
 */
describe('the checkpoint https sink', () => {
  const pki = makeTestPki();
  let port: number;
  let sink: Server | undefined;
  const received: SignedCheckpoint[] = [];
  const t = useTestApp();

  beforeAll(async () => {
    port = await freePort();
    await t.restart({ checkpoints: { signingKeyFile: undefined, everyEvents: 2, intervalMs: 60_000, sink: { kind: 'https', url: `https://127.0.0.1:${port}/checkpoints`, caFile: pki.caFile } } });
  });
  afterAll(async () => {
    await new Promise((resolve) => (sink ? sink.close(resolve) : resolve(undefined)));
    pki.cleanup();
  });

  const readiness = async () => (await (await t.request('/health/ready', { token: null })).json()) as { status: string; details: Record<string, Record<string, unknown>> };
  const metric = async (name: string) => Number(/ (\d+)$/m.exec(await t.app.get(Metrics).registry.getSingleMetricAsString(name))?.[1]);

  it('while unreachable: readiness names the failure and what waits, the metrics count it; back: it catches up in order', async () => {
    for (let i = 1; i <= 4; i++) await t.request('/api/v1/secrets', { method: 'POST', json: { key: `SINK_${i}`, value: 'v' } });
    await expectEventually(async () => {
      const ready = await readiness();
      expect(ready.status).toBe('ok');
      expect(ready.details.checkpointSink).toMatchObject({ status: 'up', sink: 'https', shippedSeq: 0, error: expect.stringMatching(/ECONNREFUSED/) });
      expect(ready.details.checkpointSink.pending).toBeGreaterThanOrEqual(1);
    }, 15_000, 100);
    expect(await metric('secrets_ledger_checkpoint_sink_failures_total')).toBeGreaterThanOrEqual(1);
    expect(await metric('secrets_ledger_checkpoint_sink_pending')).toBeGreaterThanOrEqual(1);

    sink = createServer({ key: readFileSync(pki.serverKeyFile), cert: readFileSync(pki.serverCertFile) }, (request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        received.push(JSON.parse(body));
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => sink!.listen(port, '127.0.0.1', resolve));

    await expectEventually(async () => expect((await readiness()).details.checkpointSink).toMatchObject({ pending: 0 }), 20_000, 100);
    const logged = (await (await t.request('/api/v1/audit/checkpoints')).json()).items;
    expect(logged.length).toBeGreaterThanOrEqual(1);
    expect(received).toEqual(logged);
    expect((await readiness()).details.checkpointSink).not.toHaveProperty('error');
    expect(await metric('secrets_ledger_checkpoint_sink_pending')).toBe(0);
  });
});
