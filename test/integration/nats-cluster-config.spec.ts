import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, NatsConnection } from 'nats';
import { expectEventually } from '../support/expect-eventually';
import { findBinary, freePort, uniqueKey } from '../support/nats';

// The NATS cluster of docker-compose.yml's `ha` profile, run from the committed file: three
// nodes of deploy/nats/cluster.conf on this machine, with only their ports moved (the compose
// network gives each node a host of its own). Not with nats-server's --cluster flag: it drops
// the file's route authorization, and a server with the wrong route password would join.
const DEPLOY = join(__dirname, '../../deploy/nats');
const CLUSTER_CONF = readFileSync(join(DEPLOY, 'cluster.conf'), 'utf8');
const PASSWORDS = { LEDGER_NATS_PASSWORD: 'ledger-cluster-pw-41c2', EXECUTOR_NATS_PASSWORD: 'executor-cluster-pw-9e07' };
const ROUTE_PASSWORD = 'route-cluster-pw-6b3d';

interface Node {
  client: number;
  route: number;
  monitor: number;
  process?: ChildProcess;
}

const started: ChildProcess[] = [];
const connections: NatsConnection[] = [];

/**
 * cluster.conf with the node's ports in place of the compose ones, each checked to be there once.
 * It is written beside a copy of nats-server.conf, which it includes by a relative path.
 */
function nodeConfig(node: Node): string {
  const replacements: Array<[RegExp, string]> = [
    [/^port: 4222$/m, `port: ${node.client}`],
    [/^http_port: 8222$/m, `http_port: ${node.monitor}`],
    [/^  port: 6222$/m, `  port: ${node.route}`],
  ];
  return replacements.reduce((config, [pattern, replacement]) => {
    expect(config.match(new RegExp(pattern.source, 'gm'))).toHaveLength(1);
    return config.replace(pattern, replacement);
  }, CLUSTER_CONF);
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(findBinary(), args, { stdio: 'ignore', env: { ...process.env, ...env } });
  started.push(child);
  return child;
}

async function routes(node: Node): Promise<number> {
  try {
    return ((await (await fetch(`http://127.0.0.1:${node.monitor}/routez`)).json()) as { num_routes: number }).num_routes;
  } catch {
    return -1; // not listening yet
  }
}

async function user(node: Node, name: 'ledger' | 'executor'): Promise<NatsConnection> {
  const password = name === 'ledger' ? PASSWORDS.LEDGER_NATS_PASSWORD : PASSWORDS.EXECUTOR_NATS_PASSWORD;
  const nc = await connect({ servers: `nats://127.0.0.1:${node.client}`, user: name, pass: password });
  connections.push(nc);
  return nc;
}

/** Subjects received by `nc` under `secrets.changed.>`. */
function heard(nc: NatsConnection): string[] {
  const subjects: string[] = [];
  const sub = nc.subscribe('secrets.changed.>');
  void (async () => {
    for await (const message of sub) subjects.push(message.subject);
  })();
  return subjects;
}

describe('the NATS cluster configuration (deploy/nats/cluster.conf)', () => {
  const nodes: Node[] = [];
  const configDir = mkdtempSync(join(tmpdir(), 'secrets-ledger-nats-cluster-'));

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) nodes.push({ client: await freePort(), route: await freePort(), monitor: await freePort() });
    const routeEnv = Object.fromEntries(nodes.map((node, i) => [`NATS_ROUTE_${i + 1}`, `nats-route://route:${ROUTE_PASSWORD}@127.0.0.1:${node.route}`]));
    writeFileSync(join(configDir, 'nats-server.conf'), readFileSync(join(DEPLOY, 'nats-server.conf')));
    nodes.forEach((node, i) => {
      const file = join(configDir, `node-${i + 1}.conf`);
      writeFileSync(file, nodeConfig(node));
      node.process = run(['-c', file], {
        ...PASSWORDS,
        ...routeEnv,
        NATS_ROUTE_PASSWORD: ROUTE_PASSWORD,
        NATS_SERVER_NAME: `node-${i + 1}`,
      });
    });
    // Each node routes to the two others: the full mesh the file describes.
    await expectEventually(async () => expect(await Promise.all(nodes.map(routes))).toEqual([2, 2, 2]), 15_000, 100);
  });

  afterAll(async () => {
    await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
    await Promise.all(
      started.filter((child) => child.exitCode === null).map((child) => new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      })),
    );
    rmSync(configDir, { recursive: true, force: true });
  });

  it("carries the ledger's notification from one node to an executor on another", async () => {
    const executor = await user(nodes[2], 'executor');
    const subjects = heard(executor);
    await executor.flush();
    const ledger = await user(nodes[0], 'ledger');
    const subject = `secrets.changed.${uniqueKey('CLUSTER')}`;
    // Interest crosses the routes a moment after the subscription: publish until it arrives.
    await expectEventually(async () => {
      ledger.publish(subject);
      await ledger.flush();
      expect(subjects).toContain(subject);
    }, 10_000, 100);
  });

  it('keeps out a server that offers the wrong route password, and lets in one with the right one', async () => {
    const executor = await user(nodes[0], 'executor');
    const subjects = heard(executor);
    await executor.flush();
    // Two would-be members without any authorization of their own, whose clients could publish anything.
    const intruders = await Promise.all(
      ['wrong-password', ROUTE_PASSWORD].map(async (password) => {
        const port = await freePort();
        run(['-a', '127.0.0.1', '-p', String(port), '--cluster_name', 'secrets-ledger', '--cluster', `nats://127.0.0.1:${await freePort()}`, '--routes', `nats-route://route:${password}@127.0.0.1:${nodes[0].route}`]);
        const nc = await expectEventually(() => connect({ servers: `nats://127.0.0.1:${port}` }), 10_000, 100);
        connections.push(nc);
        return { password, nc, subject: `secrets.changed.${uniqueKey('FORGED')}` };
      }),
    );
    const [wrong, right] = intruders;
    const publishBoth = async () => {
      for (const intruder of intruders) {
        intruder.nc.publish(intruder.subject);
        await intruder.nc.flush();
      }
    };
    // The right password joins, so the test would see a forged notification if the wrong one did too.
    await expectEventually(async () => {
      await publishBoth();
      expect(subjects).toContain(right.subject);
    }, 15_000, 100);
    for (let i = 0; i < 10; i++) {
      await publishBoth();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(subjects).not.toContain(wrong.subject);
  });
});
