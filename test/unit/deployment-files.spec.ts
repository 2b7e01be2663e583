import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

// No Docker engine runs on the development machines, so the compose file's structure is
// checked here instead: a service that would not find NATS or would lose its data fails this.
const root = join(__dirname, '../..');

// Merge keys (`<<: *anchor`), as Docker Compose reads them: docker-compose.ha.yml writes its
// NATS nodes and service instances once.
const read = (file: string) => readFileSync(join(root, file), 'utf8');
const composeFile = (file: string) => parse(read(file), { merge: true });
const compose = composeFile('docker-compose.yml');
const exampleCompose = composeFile('docker-compose.example.yml');
const haCompose = composeFile('docker-compose.ha.yml');

/**
 * The variables a Compose setup refuses to start without: every `${VAR}` or `${VAR:?…}` with no
 * default. Compose interpolates a whole file (every service, whatever the profile) before it
 * looks at anything else, so one such variable anywhere in a file blocks every `up` of it.
 */
function requiredVariables(yamlText: string): string[] {
  const text = yamlText.replace(/^\s*#.*$/gm, '');
  const names = [...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)(?::?\?[^}]*)?\}/g)].map((match) => match[1]);
  return [...new Set(names)].sort();
}

/** What a file's header tells the reader to export before its `up`. */
function headerVariables(yamlText: string): string[] {
  const header = yamlText.slice(0, yamlText.search(/^[a-z]/m));
  // The assignments of each `export` line, not what its command substitutions set inside them.
  const assignments = (line: string) => line.replace(/\$\([^)]*\)/g, '').replace(/\$\(.*$/, '').replace(/"[^"]*"/g, '""');
  const exports = [...header.matchAll(/^#\s+export (.+)$/gm)].flatMap((match) => [...assignments(match[1]).matchAll(/(?:^|\s)([A-Z_][A-Z0-9_]*)=/g)].map((m) => m[1]));
  return [...new Set(exports)].sort();
}

describe('each Compose setup needs exactly the variables its header lists', () => {
  it.each([
    ['docker-compose.yml', ['docker-compose.yml']],
    ['docker-compose.yml + docker-compose.example.yml', ['docker-compose.yml', 'docker-compose.example.yml']],
    ['docker-compose.ha.yml', ['docker-compose.ha.yml']],
  ])('%s', (_setup, files) => {
    const required = [...new Set(files.flatMap((file) => requiredVariables(read(file))))].sort();
    const listed = [...new Set(files.flatMap((file) => headerVariables(read(file))))].sort();
    expect(required.length).toBeGreaterThan(0);
    expect(listed).toEqual(required);
  });

  it('the default setup needs no executor token and no HA password (the four secrets of its first up)', () => {
    expect(requiredVariables(read('docker-compose.yml'))).toEqual(['EXECUTOR_NATS_PASSWORD', 'LEDGER_NATS_PASSWORD', 'SECRETS_ADMIN_TOKEN', 'SECRETS_MASTER_KEYS']);
  });

  /**
   * Compose itself interpolates the files (`config` needs no engine): Debian's `docker-compose`,
   * which `.ci/run` installs. Each setup is given exactly the variables its header exports, with
   * placeholder values, and nothing else of the environment but PATH.
   */
  const composeConfig = (files: string[], env: Record<string, string>) => {
    const run = spawnSync('docker-compose', [...files.flatMap((file) => ['-f', join(root, file)]), 'config', '-q'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
    });
    if (run.error) throw new Error(`docker-compose could not run (${run.error.message}): apt-get install docker-compose`);
    return run;
  };
  it.each([
    ['docker-compose.yml', ['docker-compose.yml']],
    ['docker-compose.yml + docker-compose.example.yml', ['docker-compose.yml', 'docker-compose.example.yml']],
    ['docker-compose.ha.yml', ['docker-compose.ha.yml']],
  ])('`docker-compose config` passes for %s with only its header\'s variables, and fails without one of them', (_setup, files) => {
    const listed = [...new Set(files.flatMap((file) => headerVariables(read(file))))];
    const env = Object.fromEntries(listed.map((name) => [name, `placeholder-${name.toLowerCase()}`]));
    const passed = composeConfig(files, env);
    expect({ status: passed.status, stderr: passed.stderr }).toEqual({ status: 0, stderr: '' });
    // Control: Compose does refuse a setup missing one of them, naming it.
    const [dropped, ...kept] = listed;
    const refused = composeConfig(files, Object.fromEntries(kept.map((name) => [name, env[name]])));
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(dropped);
  });

  it('the checks see a required variable, a defaulted one and an export line (control)', () => {
    expect(requiredVariables('a: ${A:?set A}\nb: ${B:-x}\nc: x${C}y\n# d: ${D:?}\n')).toEqual(['A', 'C']);
    expect(headerVariables('# export A="$(x)" B=y\n#   export C=1\n# export E=$(run -e F=1 \\\nservices:\n# export D=1\n')).toEqual(['A', 'B', 'C', 'E']);
  });
});

describe('docker-compose.yml', () => {
  const ledger = compose.services['secrets-ledger'];

  it('runs the service beside a NATS server with JetStream, and points one at the other', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['nats', 'secrets-ledger']);
    expect(compose.services.nats.command).toContain('-js');
    expect(ledger.environment.NATS_URL).toBe('nats://nats:4222');
    expect(ledger.depends_on).toContain('nats');
  });

  it('starts NATS with the committed authorization, the service and the executor as different users, passwords from the environment', () => {
    const nats = compose.services.nats;
    expect(nats.command.join(' ')).toContain('-c /etc/nats/nats-server.conf');
    expect(nats.volumes).toContain('./deploy/nats/nats-server.conf:/etc/nats/nats-server.conf:ro');
    const executor = exampleCompose.services['example-executor'];
    expect([ledger.environment.NATS_USER, executor.environment.NATS_USER]).toEqual(['ledger', 'executor']);
    expect(ledger.environment.NATS_PASSWORD).toMatch(/^\$\{LEDGER_NATS_PASSWORD:\?/);
    expect(executor.environment.NATS_PASSWORD).toMatch(/^\$\{EXECUTOR_NATS_PASSWORD:\?/);
    expect(executor.environment.SECRETS_TOKEN).toMatch(/^\$\{EXECUTOR_TOKEN:\?/);
    expect(Object.keys(exampleCompose.services)).toEqual(['example-executor']);
    expect(executor.depends_on).toEqual(['secrets-ledger']);
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

  it('gives the service its checkpoint signing key as a file, never inline', () => {
    expect(ledger.environment.SECRETS_SIGNING_KEY_FILE).toBe('/run/secrets/signing-key');
    expect(ledger.secrets).toEqual(['signing-key']);
    expect(compose.secrets['signing-key']).toEqual({ file: './signing-key.pem' });
    expect(read('docker-compose.yml')).toMatch(/^#\s+openssl genpkey -algorithm ed25519 -out signing-key\.pem$/m);
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

describe('docker-compose.ha.yml', () => {
  const services: Record<string, any> = haCompose.services;
  const ha = Object.keys(services);
  const instances = ['secrets-ledger-a', 'secrets-ledger-b'].map((name) => services[name]);
  const natsNodes = ['nats-1', 'nats-2', 'nats-3'];
  const clusterConf = readFileSync(join(root, 'deploy/nats/cluster.conf'), 'utf8');
  const caddyfile = readFileSync(join(root, 'deploy/caddy/Caddyfile'), 'utf8');

  it('holds PostgreSQL, three NATS nodes, two service instances and a proxy', () => {
    expect(ha.sort()).toEqual(['ledger-proxy', 'nats-1', 'nats-2', 'nats-3', 'postgres', 'secrets-ledger-a', 'secrets-ledger-b']);
  });

  it('gives both instances one database, the same keys and every NATS node, secrets from the environment', () => {
    const [a, b] = instances.map((instance) => instance.environment);
    expect(a).toEqual(b);
    const url = new URL(a.DATABASE_URL.replace(/\$\{POSTGRES_PASSWORD[^}]*\}/, 'password'));
    expect(url.protocol).toBe('postgres:');
    expect(url.hostname).toBe('postgres');
    expect(url.username).toBe(services.postgres.environment.POSTGRES_USER);
    expect(url.pathname).toBe(`/${services.postgres.environment.POSTGRES_DB}`);
    expect(a.DATABASE_URL).toMatch(/:\$\{POSTGRES_PASSWORD:\?[^}]*\}@/);
    expect(services.postgres.environment.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(a.NATS_URL.split(',')).toEqual(natsNodes.map((node) => `nats://${node}:4222`));
    expect(a.NODE_ENV).toBe('production');
    expect(a.SECRETS_MASTER_KEYS).toMatch(/^\$\{SECRETS_MASTER_KEYS:\?/);
    expect(a.SECRETS_ADMIN_TOKEN).toMatch(/^\$\{SECRETS_ADMIN_TOKEN:\?/);
    expect(a.SECRETS_SIGNING_KEY_FILE).toBe('/run/secrets/signing-key');
    for (const instance of instances) expect(instance.secrets).toEqual(['signing-key']);
    expect(haCompose.secrets['signing-key']).toEqual({ file: './signing-key.pem' });
    expect(a.NATS_USER).toBe('ledger');
    for (const instance of instances) {
      expect(instance.depends_on.postgres).toEqual({ condition: 'service_healthy' });
      expect(Object.keys(instance.depends_on)).toEqual(expect.arrayContaining(natsNodes));
      expect(instance.ports).toBeUndefined(); // reached through the proxy only
    }
    expect(services.postgres.volumes).toContain('postgres-data:/var/lib/postgresql/data');
    expect(Object.keys(haCompose.volumes)).toContain('postgres-data');
  });

  it('clusters the NATS nodes with the committed authorization, each routing to all three', () => {
    const names = natsNodes.map((node) => services[node].environment.NATS_SERVER_NAME);
    expect(new Set(names).size).toBe(3);
    expect(clusterConf).toMatch(/^include \.\/nats-server\.conf$/m);
    expect(clusterConf).toMatch(/server_name: \$NATS_SERVER_NAME/);
    for (const node of natsNodes) {
      const { command, volumes, environment } = services[node];
      expect(command.join(' ')).toBe('-c /etc/nats/cluster.conf');
      expect(volumes).toEqual(['./deploy/nats/nats-server.conf:/etc/nats/nats-server.conf:ro', './deploy/nats/cluster.conf:/etc/nats/cluster.conf:ro']);
      const routes = [...clusterConf.matchAll(/^\s*\$(NATS_ROUTE_\d)$/gm)].map((m) => environment[m[1]]);
      expect(routes).toEqual(natsNodes.map((peer) => `nats-route://route:\${NATS_ROUTE_PASSWORD}@${peer}:6222`));
      expect(environment.NATS_ROUTE_PASSWORD).toMatch(/^\$\{NATS_ROUTE_PASSWORD:\?/);
      expect(environment.LEDGER_NATS_PASSWORD).toMatch(/^\$\{LEDGER_NATS_PASSWORD:\?/);
    }
  });

  it('puts both instances behind one address, leaving out one that is not ready', () => {
    const proxy = services['ledger-proxy'];
    expect(proxy.volumes).toContain('./deploy/caddy/Caddyfile:/etc/caddy/Caddyfile:ro');
    expect(proxy.ports).toEqual(['127.0.0.1:3001:3000']);
    expect(proxy.depends_on.sort()).toEqual(['secrets-ledger-a', 'secrets-ledger-b']);
    const upstreams = caddyfile.match(/^\s*reverse_proxy (.+) \{$/m)![1].split(/\s+/);
    expect(upstreams).toEqual(['secrets-ledger-a', 'secrets-ledger-b'].map((name) => `${name}:${services[name].environment.PORT}`));
    expect(caddyfile).toMatch(/^:3000 \{$/m);
    expect(caddyfile).toMatch(/^\s*health_uri \/health\/ready$/m);
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
