import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { openPostgresStorage } from '../../src/storage/database.module';
import { ADVISORY_LOCKS } from '../../src/storage/postgres/advisory-locks';
import { POSTGRES_TYPES } from '../../src/storage/postgres/open-postgres';
import { FreshDatabase, freshDatabase, postgresServer } from '../../test/support/postgres';
import { signingKeyFile } from '../../test/support/signing-key';
import { median, progress, round } from '../lib/report';
import { ServiceProcess, startService } from '../lib/service-process';
import { measurePropagation, propagationResult } from './propagation';
import { measureHttpResolves, prepareResolves } from './resolves';
import { measureWrites, prepareWrites, writesResult } from './writes';

/** Secret events in the log, through a connection of our own: what the instances have committed. */
async function committedPostgresWrites(url: string): Promise<number> {
  const client = new Client({ connectionString: url, types: POSTGRES_TYPES });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE type IN ('SecretAdded', 'SecretUpdated')");
    return rows[0].n;
  } finally {
    await client.end();
  }
}

/**
 * The floor: raw `pg` on one connection, the same append transaction the service commits (the
 * log's advisory lock, the head read, the event row, the data key row, the read-model upsert),
 * one transaction per write, nothing else. PostgreSQL's own durability settings (synchronous
 * commit, fsync) are the server's, the same for both.
 */
async function measurePostgresWriteFloor(url: string, writes: number): Promise<number> {
  const pool = new Pool({ connectionString: url, max: 1, types: POSTGRES_TYPES });
  const client = await pool.connect();
  const hash = 'f'.repeat(64);
  try {
    const started = performance.now();
    for (let i = 1; i <= writes; i++) {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.logAppend]);
      const head = await client.query<{ seq: number }>('SELECT seq FROM events ORDER BY seq DESC LIMIT 1');
      const seq = (head.rows[0]?.seq ?? 0) + 1;
      const id = `floor-${seq}-${randomBytes(4).toString('hex')}`;
      const at = new Date().toISOString();
      await client.query(
        `INSERT INTO events (seq, id, stream, version, type, data, ciphertext, actor, at, prev_hash, hash)
         VALUES ($1, $2, $3, 1, 'SecretAdded', $4, $5, '{"id":"tok","name":"bench","role":"admin"}', $6, $7, $8)`,
        [seq, id, `secret-F_${seq}`, `{"key":"F_${seq}","description":"","revision":${seq}}`, randomBytes(60), at, hash, hash],
      );
      await client.query('INSERT INTO data_keys (event_id, kid, wrapped) VALUES ($1, $2, $3)', [id, 'bench-1', randomBytes(60)]);
      await client.query(
        `INSERT INTO secrets (key, status, version, description, created_at, created_by, updated_at, updated_by, value_event_id)
         VALUES ($1, 'active', 1, '', $2, 'bench', $2, 'bench', $3) ON CONFLICT (key) DO UPDATE SET version = excluded.version`,
        [`F_${seq}`, at, id],
      );
      await client.query('COMMIT');
    }
    const perS = writes / ((performance.now() - started) / 1000);
    progress(`postgres writes floor: ${writes} raw transactions → ${perS.toFixed(0)}/s`);
    return perS;
  } finally {
    client.release();
    await pool.end();
  }
}

/**
 * SPEC §8 measured: two service instances on one PostgreSQL database (a fresh one on the server
 * the tests use). Writes through instance A against the raw `pg` floor, rounds alternating;
 * resolves through A; propagation with the admin writing through B and the executor resolving
 * from A, so every sample crosses instances (B's commit → the relay → NATS → the SDK → A).
 */
export async function measurePostgres(
  size: { loadSeconds: number; propagationSamples: number; floorWrites: number },
  rounds: number,
  /** The environment of an instance with its own data dir (the dev key file, the data-dir lock). */
  env: (dataDir: string) => NodeJS.ProcessEnv,
  dataRoot: string,
  adminToken: string,
  natsUrl: string,
) {
  const server = await postgresServer();
  progress(`postgres: on ${server.origin === 'throwaway' ? 'a throwaway cluster' : 'the server the tests use'}`);
  const live: FreshDatabase = await freshDatabase('bench-live');
  const floorDb: FreshDatabase = await freshDatabase('bench-floor');
  const services: ServiceProcess[] = [];
  try {
    // The floor's database gets the service's schema through the real migrations.
    await (await openPostgresStorage(floorDb.url)).close();
    // Instances sharing a database sign checkpoints with one key, which they must be given.
    const signingKey = signingKeyFile(dataRoot);
    const instance = (name: string) => startService({ ...env(join(dataRoot, name)), DATABASE_URL: live.url, SECRETS_SIGNING_KEY_FILE: signingKey });
    services.push(await instance('postgres-a'), await instance('postgres-b'));
    const [a, b] = services;
    const floorRounds: number[] = [];
    const writeRounds: { perS: number; durable: boolean }[] = [];
    await prepareWrites(a, adminToken);
    for (let pass = 1; pass <= rounds; pass++) {
      floorRounds.push(await measurePostgresWriteFloor(floorDb.url, Math.ceil(size.floorWrites / rounds / 3)));
      writeRounds.push(await measureWrites(a, () => committedPostgresWrites(live.url), adminToken, size.loadSeconds / rounds, pass));
    }
    const { keys, executorToken } = await prepareResolves(a, adminToken);
    const httpRounds: number[] = [];
    for (let pass = 1; pass <= rounds; pass++) httpRounds.push(await measureHttpResolves(a, executorToken, keys, size.loadSeconds / rounds));
    const propagation = await measurePropagation(a, natsUrl, adminToken, size.propagationSamples, b);
    return {
      instances: 2,
      writes: writesResult(writeRounds, median(floorRounds)),
      resolves: { http_per_s: round(median(httpRounds), 0) },
      propagation_across_instances: propagationResult(propagation),
    };
  } finally {
    await Promise.all(services.map((service) => service.stop()));
    await live.drop();
    await floorDb.drop();
  }
}
