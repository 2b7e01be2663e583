import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

// No Docker engine runs on the development machines, so the compose file's structure is
// checked here instead: a service that would not find NATS or would lose its data fails this.
const root = join(__dirname, '../..');

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'));
  const ledger = compose.services['secrets-ledger'];

  it('runs the service beside a NATS server with JetStream, and points one at the other', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['example-executor', 'nats', 'secrets-ledger']);
    expect(compose.services.nats.command).toContain('-js');
    expect(ledger.environment.NATS_URL).toBe('nats://nats:4222');
    expect(ledger.depends_on).toContain('nats');
  });

  it('starts NATS with the committed authorization, the service and the executor as different users, passwords from the environment', () => {
    const nats = compose.services.nats;
    expect(nats.command.join(' ')).toContain('-c /etc/nats/nats-server.conf');
    expect(nats.volumes).toContain('./deploy/nats/nats-server.conf:/etc/nats/nats-server.conf:ro');
    const executor = compose.services['example-executor'];
    expect([ledger.environment.NATS_USER, executor.environment.NATS_USER]).toEqual(['ledger', 'executor']);
    expect(ledger.environment.NATS_PASSWORD).toMatch(/^\$\{LEDGER_NATS_PASSWORD:\?/);
    expect(executor.environment.NATS_PASSWORD).toMatch(/^\$\{EXECUTOR_NATS_PASSWORD:\?/);
    expect(executor.environment.SECRETS_TOKEN).toMatch(/^\$\{EXECUTOR_TOKEN:\?/);
    expect(executor.profiles).toEqual(['example']);
  });

  it('keeps the data dir on a named volume', () => {
    const dataDir = ledger.environment.SECRETS_DATA_DIR;
    expect(ledger.volumes).toContain(`secrets-data:${dataDir}`);
    expect(Object.keys(compose.volumes)).toContain('secrets-data');
  });

  it('takes the master keys and admin token from the environment, required, never inline', () => {
    expect(ledger.environment.NODE_ENV).toBe('production');
    expect(ledger.environment.SECRETS_MASTER_KEYS).toMatch(/^\$\{SECRETS_MASTER_KEYS:\?/);
    expect(ledger.environment.SECRETS_ADMIN_TOKEN).toMatch(/^\$\{SECRETS_ADMIN_TOKEN:\?/);
  });

  it('listens on all interfaces inside the container and probes readiness', () => {
    expect(ledger.environment.HOST).toBe('0.0.0.0');
    expect(ledger.healthcheck.test.join(' ')).toContain('/health/ready');
  });

  it('builds from a Dockerfile that runs `serve` with the data dir as a volume', () => {
    expect(ledger.build).toBe('.');
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/CMD \["node", "dist\/cli.js", "serve"\]/);
    expect(dockerfile).toMatch(/SECRETS_DATA_DIR=\/data/);
  });
});
