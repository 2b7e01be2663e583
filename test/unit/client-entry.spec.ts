import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDataDir } from '../support/test-app';

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

  it("loads as `secrets-ledger/client` from another project that installed this checkout", () => {
    const project = tempDataDir('secrets-ledger-consumer-');
    try {
      writeFileSync(join(project.dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
      const install = spawnSync('npm', ['install', join(__dirname, '../..'), '--no-audit', '--no-fund', '--offline'], { cwd: project.dir, encoding: 'utf8', timeout: 120_000 });
      expect({ status: install.status, stderr: install.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
      const loaded = spawnSync(process.execPath, ['-e', "process.stdout.write(typeof require('secrets-ledger/client').SecretsClient.connect)"], { cwd: project.dir, encoding: 'utf8' });
      expect(loaded.stdout).toBe('function');
    } finally {
      project.cleanup();
    }
  });
});
