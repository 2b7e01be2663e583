import { parse } from 'csv-parse/sync';
import { runCli } from '../support/cli';
import { TestApp, startTestApp, tempDataDir, testConfig } from '../support/test-app';

describe('secrets-ledger audit export (offline copy)', () => {
  const data = tempDataDir();
  const config = testConfig(data.dir);
  let httpExport: string;

  beforeAll(async () => {
    const t: TestApp = await startTestApp(config);
    for (const key of ['ALPHA', 'BETA']) await t.request('/api/v1/secrets', { method: 'POST', json: { key, value: `cli-export-${key}` } });
    await t.request('/api/v1/secrets/ALPHA', { method: 'PATCH', json: { description: 'changed' } });
    httpExport = await (await t.request('/api/v1/audit/export?format=ndjson')).text();
    await t.close();
  });
  afterAll(() => data.cleanup());

  const exportCli = (...args: string[]) => runCli(['audit', 'export', '--db', config.databasePath, ...args]);

  it('NDJSON from the file is what the service exported', () => {
    const run = exportCli('--format', 'ndjson');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(httpExport);
    expect(run.stdout).not.toContain('cli-export-');
  });

  it('filters like the API, and CSV carries the same events', () => {
    const ndjson = exportCli('--format', 'ndjson', '--key', 'ALPHA').stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(ndjson.map((e) => [e.type, e.version])).toEqual([
      ['SecretAdded', 1],
      ['SecretUpdated', 2],
    ]);
    const csv = parse(exportCli('--format', 'csv', '--key', 'ALPHA').stdout, { columns: true }) as Record<string, string>[];
    expect(csv.map((row) => [row.seq, row.hash])).toEqual(ndjson.map((e) => [String(e.seq), e.hash]));
  });

  it('refuses bad options with a line naming them, and a missing file', () => {
    const bad = exportCli('--format', 'xml', '--from', 'yesterday');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--from must be an ISO 8601 timestamp/);
    expect(bad.stderr).toMatch(/--format must be one of ndjson, csv/);
    const missing = runCli(['audit', 'verify', '--db', `${data.dir}/nope.db`]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/nope\.db/);
  });
});
