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

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');

  it('builds and runs on a supported Node LTS (22 or 24), never an end-of-life one', () => {
    const bases = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(bases.length).toBeGreaterThanOrEqual(2);
    for (const base of bases) expect(base).toMatch(/^node:(22|24)-bookworm-slim$/);
  });

  it('runs the service as a non-root user', () => {
    const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1]).not.toMatch(/^(root|0)$/);
  });

  it('keeps the data dir, master keys, dependencies, history and build output out of the build context', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    for (const entry of ['data/', 'master-keys*', 'node_modules', '.git', 'dist', 'coverage', '.bench*', '*.log']) expect(ignored).toContain(entry);
  });
});
