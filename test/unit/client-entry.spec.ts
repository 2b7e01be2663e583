import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

describe('the SDK entry point (dist/client)', () => {
  it('loads no Nest code', () => {
    const entry = join(__dirname, '../../dist/client/index.js');
    const script = `
      const client = require(${JSON.stringify(entry)});
      const loaded = Object.keys(require.cache);
      process.stdout.write(JSON.stringify({ exports: Object.keys(client), nest: loaded.filter((p) => p.includes('node_modules/@nestjs')), total: loaded.length }));
    `;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.exports).toEqual(expect.arrayContaining(['SecretsClient', 'loadPluginManifest', 'UndeclaredSecretError']));
    expect(report.total).toBeGreaterThan(1);
    expect(report.nest).toEqual([]);
  });
});
