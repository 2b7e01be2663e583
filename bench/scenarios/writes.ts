import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { applyPragmas } from '../../src/storage/database.module';
import { openLedger } from '../lib/ledger';
import { median, progress, round } from '../lib/report';
import { ServiceProcess, api } from '../lib/service-process';

export const WRITE_CONCURRENCY = 32;

const UPDATED_KEYS = 1_000;

/** The secrets the write load updates, created once before its rounds. */
export async function prepareWrites(service: ServiceProcess, adminToken: string): Promise<void> {
  progress(`writes: creating ${UPDATED_KEYS} secrets to update`);
  for (let i = 0; i < UPDATED_KEYS; i += 50) {
    await Promise.all(
      Array.from({ length: 50 }, (_, j) => api(service.url, adminToken, '/api/v1/secrets', { method: 'POST', json: { key: `UPD_${i + j}`, value: 'initial' } })),
    );
  }
}

/**
 * 32 concurrent HTTP clients, half creating new secrets and half updating the ones
 * prepareWrites made. `pass` keeps each round's new keys apart from an earlier round's.
 * Returns the acknowledged writes per second, and whether the log held every acknowledged write
 * when the round ended (see committedWrites).
 */
export async function measureWrites(service: Pick<ServiceProcess, 'url'>, committedWrites: () => Promise<number>, adminToken: string, seconds: number, pass = 1) {
  const before = await committedWrites();
  let n = 0;
  progress(`writes: ${WRITE_CONCURRENCY} connections for ${seconds}s`);
  const result = await autocannon({
    url: service.url,
    connections: WRITE_CONCURRENCY,
    duration: seconds,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => {
          const i = n++;
          const value = randomBytes(24).toString('base64');
          return i % 2 === 0
            ? { ...request, method: 'POST', path: '/api/v1/secrets', body: JSON.stringify({ key: `R${pass}_W_${i}`, value }) }
            : { ...request, method: 'PATCH', path: `/api/v1/secrets/UPD_${i % UPDATED_KEYS}`, body: JSON.stringify({ value }) };
        },
      },
    ],
  });
  const ok = result['2xx'];
  const perS = ok / (result.duration || seconds);
  progress(`writes: ${ok} acknowledged (${result.non2xx} non-2xx, ${result.errors} errors) → ${perS.toFixed(0)}/s`);
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`writes: ${result.non2xx} non-2xx responses and ${result.errors} errors`);
  // Each acknowledged write is one event. Requests still in flight when the round stopped may
  // add a few more, never fewer.
  const committed = (await committedWrites()) - before;
  const durable = committed >= ok;
  progress(`writes: the log holds ${committed} new secret events for ${ok} acknowledged writes${durable ? '' : ' — ACKNOWLEDGED WRITES MISSING'}`);
  return { perS, durable };
}

/**
 * Secret events in the service's log, read through a connection of our own: what the service
 * has committed, not what it holds in an open transaction. Finding every acknowledged write
 * here shows that none was lost or acknowledged for a batch that then failed to commit. That
 * each commit was synced before the answer is what SqliteStorage (WAL, an fsync after each
 * COMMIT) guarantees and test/integration/sqlite-storage.spec.ts asserts; a timing-free bench cannot.
 */
export async function committedSqliteWrites(databasePath: string): Promise<number> {
  const db = new Database(databasePath, { readonly: true, fileMustExist: true });
  try {
    if (db.pragma('journal_mode', { simple: true }) !== 'wal') throw new Error(`writes: ${databasePath} is not in WAL mode`);
    const row = db.prepare("SELECT COUNT(*) AS n FROM events WHERE type IN ('SecretAdded', 'SecretUpdated')").get() as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

/**
 * The floor's transaction: raw better-sqlite3, same pragmas, the same append transaction (event
 * row, data key row, read-model upsert), on a fresh file made by the real migrations.
 */
export async function openRawAppend(path: string, masterKeys: string): Promise<RawAppend> {
  const ledger = await openLedger(path, masterKeys); // same schema, via the real migrations
  await ledger.close();
  const db = new Database(path);
  applyPragmas(db);
  const insertEvent = db.prepare(
    `INSERT INTO events (seq, id, stream, version, type, data, ciphertext, actor, at, prev_hash, hash)
     VALUES (?, ?, ?, 1, 'SecretAdded', ?, ?, '{"id":"tok","name":"bench","role":"admin"}', ?, ?, ?)`,
  );
  const insertKey = db.prepare('INSERT INTO data_keys (event_id, kid, wrapped) VALUES (?, ?, ?)');
  const upsert = db.prepare(
    `INSERT INTO secrets (key, status, version, description, created_at, created_by, updated_at, updated_by, value_event_id)
     VALUES (?, 'active', 1, '', ?, 'bench', ?, 'bench', ?) ON CONFLICT (key) DO UPDATE SET version = excluded.version`,
  );
  const hash = 'f'.repeat(64);
  const append = db.transaction((seq: number) => {
    const id = `evt-${seq}`;
    const at = new Date().toISOString();
    insertEvent.run(seq, id, `secret-F_${seq}`, `{"key":"F_${seq}","description":"","revision":${seq}}`, randomBytes(60), at, hash, hash);
    insertKey.run(id, 'bench-1', randomBytes(60));
    upsert.run(`F_${seq}`, at, at, id);
  });
  // Nested in a transaction, better-sqlite3 runs `append` in a savepoint, as the service runs each write of a batch.
  const appendAll = db.transaction((seqs: readonly number[]) => seqs.forEach((seq) => append(seq)));
  return { append: (seq) => append(seq), appendAll: (seqs) => appendAll(seqs), close: () => db.close() };
}

export interface RawAppend {
  /** One write in one transaction. */
  append(seq: number): void;
  /** Several writes in one transaction, each in its own savepoint: a group commit. */
  appendAll(seqs: readonly number[]): void;
  close(): void;
}

/** The floor: the raw append transaction, one per write, in one process, nothing else. */
export async function measureWriteFloor(dir: string, masterKeys: string, writes: number, pass = 1) {
  const raw = await openRawAppend(join(dir, `floor-${pass}.db`), masterKeys);
  const started = performance.now();
  for (let seq = 1; seq <= writes; seq++) raw.append(seq);
  const perS = writes / ((performance.now() - started) / 1000);
  raw.close();
  progress(`writes floor: ${writes} raw transactions → ${perS.toFixed(0)}/s`);
  return perS;
}

/**
 * The HTTP write floor: the same load as measureWrites against write-floor-server (Fastify and
 * the raw append, group-committed, nothing else), in its own process. The writes per second no
 * HTTP service on this stack reaches on this machine, whatever it leaves out.
 */
export async function measureHttpWriteFloor(dir: string, masterKeys: string, seconds: number, pass = 1): Promise<number> {
  const databasePath = join(dir, `http-floor-${pass}.db`);
  const server = fork(join(__dirname, 'write-floor-server.js'), [databasePath, masterKeys], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      server.once('message', (message: { url: string }) => resolve(message.url));
      server.once('exit', (code) => reject(new Error(`writes: the HTTP floor's server exited with ${code}`)));
    });
    progress('writes: HTTP floor (Fastify and the raw append, group-committed)');
    const { perS, durable } = await measureWrites({ url }, () => committedSqliteWrites(databasePath), 'floor', seconds, pass);
    if (!durable) throw new Error("writes: the HTTP floor's log misses acknowledged writes");
    return perS;
  } finally {
    server.send({ stop: true });
    await new Promise((resolve) => (server.exitCode !== null ? resolve(undefined) : server.once('exit', resolve)));
  }
}

/**
 * `ratio` is ours over the floor's; with the HTTP floor measured too, `http_floor_ratio` is that
 * floor's over the floor's: the highest `ratio` an HTTP service could show in the same run.
 */
export function writesResult(rounds: { perS: number; durable: boolean }[], floorPerS: number, httpFloorPerS?: number) {
  const perS = median(rounds.map((r) => r.perS));
  return {
    concurrency: WRITE_CONCURRENCY,
    per_s: round(perS, 0),
    floor_per_s: round(floorPerS, 0),
    ratio: round(perS / floorPerS),
    ...(httpFloorPerS === undefined ? {} : { http_floor_per_s: round(httpFloorPerS, 0), http_floor_ratio: round(httpFloorPerS / floorPerS) }),
    durable: rounds.every((r) => r.durable),
  };
}
