import { randomBytes } from 'node:crypto';
import { AuditLog } from '../../src/audit/audit-log';
import { verifyChain } from '../../src/audit/chain-verifier';
import { TokensRepository } from '../../src/auth/tokens-repository';
import { MasterKeyring } from '../../src/crypto/master-keyring';
import { SecretValue } from '../../src/crypto/secret-value';
import { ANY_VERSION, EventStore } from '../../src/event-store/event-store';
import { StoredEventType } from '../../src/event-store/stored-event-types';
import { RelayCheckpoints } from '../../src/nats/relay-checkpoints';
import { rebuildReadModel } from '../../src/secrets/read-model-rebuild';
import { SecretsReadModel } from '../../src/secrets/secrets-read-model';
import { applySecretCommand } from '../../src/secrets/secrets.service';
import { secretStream } from '../../src/secrets/domain/events';
import { VersionMismatchError } from '../../src/common/errors';
import type { Storage } from '../../src/storage/sql';
import { ENGINES, TestStorage, openTestStorage } from '../support/engines';
import { expectEventually } from '../support/expect-eventually';

const ACTOR = { id: 'tok_contract', name: 'contract', role: 'admin' };
const OTHER = { id: 'tok_other', name: 'other', role: 'auditor' };

/**
 * The storage port's contract (SPEC §8), the same assertions on each engine: what the event
 * store, the repositories and the write queue promise whichever database is underneath.
 */
describe.each(ENGINES)('the storage contract on %s', (engine) => {
  let t: TestStorage;
  let store: EventStore;
  const readModel = new SecretsReadModel();

  beforeEach(async () => {
    t = await openTestStorage(engine);
    store = new EventStore(new MasterKeyring([{ kid: 'k1', key: randomBytes(32) }]));
  });
  afterEach(() => t.cleanup());

  const command = (key: string, value: string) =>
    t.storage.transact((tx) => applySecretCommand(tx, store, readModel, { type: 'AddSecret', key, value: new SecretValue(value), description: `d ${key}` }, ACTOR));
  const events = async () => (await new AuditLog(t.storage.reader).page({}, 0, 1000)).items;

  it('appends with seq gap-free from 1 and one hash chain, also for jobs that share a batch', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => command(`KEY_${i}`, `value-${i}`)));
    const seqs = (await events()).map((event) => event.seq);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const verified = await verifyChain(new AuditLog(t.storage.reader));
    expect(verified).toMatchObject({ ok: true, checked: 20, head: { seq: 20 } });
  });

  it('refuses a stale expected version, and the database refuses a second row for a (stream, version)', async () => {
    await t.storage.transact((tx) => store.appendToStream(tx, 's-1', 0, [{ type: StoredEventType.AccessDenied, data: { action: 'a' } }], ACTOR));
    await expect(
      t.storage.transact((tx) => store.appendToStream(tx, 's-1', 0, [{ type: StoredEventType.AccessDenied, data: { action: 'b' } }], ACTOR)),
    ).rejects.toBeInstanceOf(VersionMismatchError);
    // Below the version check: the constraint itself.
    await expect(
      t.storage.transact((tx) =>
        tx.run("INSERT INTO events (seq, id, stream, version, type, data, ciphertext, actor, at, prev_hash, hash) VALUES (99, 'x', 's-1', 1, 't', '{}', NULL, '{}', 'now', '', '')"),
      ),
    ).rejects.toMatchObject({ message: expect.stringMatching(/unique/i) });
    expect(await store.streamVersion(t.storage.reader, 's-1')).toBe(1);
  });

  it('UPDATE and DELETE on the log are refused by the database itself', async () => {
    await command('KEY_A', 'value-a');
    // Matched on the message: better-sqlite3's errors come from the realm of the first test file
    // that loaded it, so in later files they are no `instanceof Error` for toThrow.
    await expect(t.storage.transact((tx) => tx.run("UPDATE events SET type = 'Forged'"))).rejects.toMatchObject({ message: expect.stringMatching(/append-only/) });
    await expect(t.storage.transact((tx) => tx.run('DELETE FROM events'))).rejects.toMatchObject({ message: expect.stringMatching(/append-only/) });
    expect((await events()).map((event) => event.type)).toEqual([StoredEventType.SecretAdded]);
  });

  it('seals values: no plaintext in any row, and the value opens again by its event id', async () => {
    const value = `plaintext-${randomBytes(8).toString('hex')}`;
    await command('KEY_SEALED', value);
    const rows = await t.storage.reader.all<Record<string, unknown>>('SELECT * FROM events');
    const keys = await t.storage.reader.all<Record<string, unknown>>('SELECT * FROM data_keys');
    const dump = JSON.stringify([rows, keys], (_, v) => (v?.type === 'Buffer' ? Buffer.from(v.data).toString('latin1') : v));
    // Positive control: the same search finds the key, so it would find the value.
    expect(dump).toContain('KEY_SEALED');
    expect(dump).not.toContain(value);
    const state = await readModel.load(t.storage.reader, 'KEY_SEALED');
    expect(state.status).toBe('active');
    const opened = await store.openValues(t.storage.reader, [{ eventId: state.status === 'active' ? state.valueEventId! : '', stream: secretStream('KEY_SEALED') }]);
    expect([...opened.values.values()].map((v) => v.reveal())).toEqual([value]);
  });

  it('updates the read model in the same transaction as the append: a failing job leaves neither', async () => {
    await expect(
      t.storage.transact(async (tx) => {
        await applySecretCommand(tx, store, readModel, { type: 'AddSecret', key: 'KEY_ROLLED_BACK', value: new SecretValue('v'), description: '' }, ACTOR);
        throw new Error('the job fails after its append');
      }),
    ).rejects.toThrow(/fails after/);
    expect(await readModel.load(t.storage.reader, 'KEY_ROLLED_BACK')).toMatchObject({ status: 'absent' });
    expect(await events()).toEqual([]);
    expect(await readModel.revision(t.storage.reader)).toBe(0);
  });

  it('jobs that arrive together share one commit, and a job that fails rolls back alone, its SQL error included', async () => {
    const batches: number[] = [];
    t.storage.observe({ batchCommitted: (jobs) => batches.push(jobs), batchFailed: () => batches.push(-1) });
    const outcomes = await Promise.allSettled([
      command('KEY_FIRST', 'one'),
      t.storage.transact(async (tx) => {
        await applySecretCommand(tx, store, readModel, { type: 'AddSecret', key: 'KEY_FAILING', value: new SecretValue('v'), description: '' }, ACTOR);
        await tx.run('INSERT INTO no_such_table VALUES (1)');
      }),
      command('KEY_THIRD', 'three'),
      command('KEY_FOURTH', 'four'),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(batches).toEqual([4]);
    expect((await readModel.snapshot(t.storage.reader)).map((s) => s.key)).toEqual(['KEY_FIRST', 'KEY_FOURTH', 'KEY_THIRD']);
    expect((await events()).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(await verifyChain(new AuditLog(t.storage.reader))).toMatchObject({ ok: true, checked: 3 });
  });

  it('the reader sees committed state only, never a batch still open', async () => {
    let seenDuringJob: number | undefined;
    await t.storage.transact(async (tx) => {
      await applySecretCommand(tx, store, readModel, { type: 'AddSecret', key: 'KEY_PENDING', value: new SecretValue('v'), description: '' }, ACTOR);
      seenDuringJob = (await events()).length;
    });
    expect(seenDuringJob).toBe(0);
    expect(await events()).toHaveLength(1);
  });

  it('reads a stream, replays by type in seq order, and rebuilds the read model from the log alone', async () => {
    await command('KEY_1', 'one');
    await t.storage.transact((tx) => store.appendToStream(tx, 'access-denied', ANY_VERSION, [{ type: StoredEventType.AccessDenied, data: { action: 'x' } }], OTHER));
    await t.storage.transact((tx) => applySecretCommand(tx, store, readModel, { type: 'UpdateSecret', key: 'KEY_1', value: new SecretValue('two') }, ACTOR));
    await command('KEY_2', 'three');
    expect((await store.readStream(t.storage.reader, 'secret-KEY_1')).map((e) => [e.version, e.type])).toEqual([
      [1, StoredEventType.SecretAdded],
      [2, StoredEventType.SecretUpdated],
    ]);
    const replayed: number[] = [];
    const pages: number[] = [];
    for await (const page of store.replay(t.storage.reader, [StoredEventType.SecretAdded, StoredEventType.SecretUpdated], 0, 2)) {
      pages.push(page.length);
      replayed.push(...page.map((event) => event.seq));
    }
    expect(pages).toEqual([2, 1]);
    expect(replayed).toEqual([1, 3, 4]);
    const live = { rows: await readModel.snapshot(t.storage.reader), revision: await readModel.revision(t.storage.reader) };
    expect(live.rows).toHaveLength(2);
    await rebuildReadModel(t.storage, store, readModel);
    expect({ rows: await readModel.snapshot(t.storage.reader), revision: await readModel.revision(t.storage.reader) }).toEqual(live);
  });

  it('audit queries filter by type, actor, key and time, in seq order', async () => {
    await command('KEY_1', 'one');
    await t.storage.transact((tx) =>
      store.appendToStream(tx, 'resolutions', ANY_VERSION, [{ type: StoredEventType.SecretsResolved, data: { plugin: 'p', keys: [], missing: ['KEY_1'], revision: 1 }, keys: ['KEY_1'] }], OTHER),
    );
    await command('KEY_2', 'two');
    const log = new AuditLog(t.storage.reader);
    const seqs = async (filter: Parameters<AuditLog['page']>[0]) => (await log.page(filter, 0, 100)).items.map((e) => e.seq);
    expect(await seqs({ type: StoredEventType.SecretAdded })).toEqual([1, 3]);
    expect(await seqs({ actor: OTHER.id })).toEqual([2]);
    expect(await seqs({ key: 'KEY_1' })).toEqual([1, 2]);
    const all = await events();
    expect(await seqs({ from: all[1].at })).toEqual(all.filter((e) => e.at >= all[1].at).map((e) => e.seq));
    expect(await seqs({ from: '2999-01-01T00:00:00.000Z' })).toEqual([]);
    const firstPage = await log.page({}, 0, 2);
    expect(firstPage.items.map((e) => e.seq)).toEqual([1, 2]);
    expect(firstPage.next).not.toBeNull();
  });

  it('audit reads walk the log in bounded windows: each query spans at most the window, every match comes once, a listing page is still full', async () => {
    // 30 events; SecretAdded at every third seq (3, 6, …, 30), AccessDenied between.
    for (let i = 1; i <= 10; i++) {
      await t.storage.transact((tx) =>
        store.appendToStream(tx, `denials-${i}`, ANY_VERSION, [1, 2].map((n) => ({ type: StoredEventType.AccessDenied, data: { action: `a${i}.${n}` } })), OTHER),
      );
      await command(`KEY_${i}`, `v${i}`);
    }
    const spans: number[] = [];
    const reader = t.storage.reader;
    const recording: typeof reader = Object.assign(Object.create(reader) as typeof reader, {
      all: (sql: string, params: Parameters<typeof reader.all>[1] = []) => {
        // The page queries: `seq > ? AND seq <= ?` first.
        if (/seq > \?/.test(sql)) spans.push(Number(params[1]) - Number(params[0]));
        return reader.all(sql, params);
      },
    });
    const log = new AuditLog(recording, 4);
    const chunks: number[][] = [];
    for await (const page of log.pages({ type: StoredEventType.SecretAdded }, undefined, 0, 2)) chunks.push(page.map((row) => row.seq));
    expect(chunks.flat()).toEqual([3, 6, 9, 12, 15, 18, 21, 24, 27, 30]);
    expect(chunks.every((chunk) => chunk.length >= 1 && chunk.length <= 2)).toBe(true);
    expect(spans.length).toBeGreaterThanOrEqual(30 / 4);
    expect(Math.max(...spans)).toBeLessThanOrEqual(4);

    const first = await log.page({ type: StoredEventType.SecretAdded }, 0, 4);
    expect(first.items.map((e) => e.seq)).toEqual([3, 6, 9, 12]);
    expect(first.next).not.toBeNull();
    const last = await log.page({ type: StoredEventType.SecretAdded }, 27, 4);
    expect(last).toMatchObject({ items: [expect.objectContaining({ seq: 30 })], next: null });
    // Newest first walks the same windows backwards.
    const newest = await log.newestPage({ type: StoredEventType.SecretAdded }, undefined, 4);
    expect(newest.items.map((e) => e.seq)).toEqual([30, 27, 24, 21]);
    const oldest = await log.newestPage({ type: StoredEventType.SecretAdded }, 6, 4);
    expect(oldest).toMatchObject({ items: [expect.objectContaining({ seq: 3 })], next: null });
    expect(Math.max(...spans)).toBeLessThanOrEqual(4);
  });

  it('a consumer that takes audit pages as fast as it can still lets the event loop turn between them', async () => {
    await t.storage.transact((tx) =>
      store.appendToStream(tx, 'bulk', ANY_VERSION, Array.from({ length: 50 }, (_, i) => ({ type: StoredEventType.AccessDenied, data: { action: `a${i}` } })), OTHER),
    );
    let turns = 0;
    let ticking = true;
    const tick = () => {
      if (!ticking) return;
      turns += 1;
      setImmediate(tick);
    };
    setImmediate(tick);
    const turnsAtEachPage: number[] = [];
    for await (const page of new AuditLog(t.storage.reader).pages({}, undefined, 0, 5)) {
      expect(page.length).toBe(5);
      turnsAtEachPage.push(turns);
    }
    ticking = false;
    expect(turnsAtEachPage).toHaveLength(10);
    // Each page after the first began only after another turn of the loop had run.
    for (let i = 1; i < turnsAtEachPage.length; i++) expect(turnsAtEachPage[i]).toBeGreaterThan(turnsAtEachPage[i - 1]);
  });

  it('tokens: inserted beside their event, found by hash, revoked once', async () => {
    const tokens = new TokensRepository();
    const record = { id: 'tok_1', name: 'ci', role: 'executor' as const, plugins: ['p'], createdAt: '2026-01-01T00:00:00.000Z', revokedAt: null };
    await t.storage.transact((tx) => tokens.insert(tx, record, 'hash-1'));
    expect(await tokens.findByHash(t.storage.reader, 'hash-1')).toEqual({ ...record, lastUsedAt: null, tokenHash: 'hash-1' });
    expect(await t.storage.transact((tx) => tokens.revoke(tx, 'tok_1', '2026-01-02T00:00:00.000Z'))).toBe(true);
    expect(await t.storage.transact((tx) => tokens.revoke(tx, 'tok_1', '2026-01-03T00:00:00.000Z'))).toBe(false);
    expect(await tokens.findById(t.storage.reader, 'tok_1')).toMatchObject({ revokedAt: '2026-01-02T00:00:00.000Z' });
  });

  it('a token use is recorded once a window, by whichever instance comes first, and never moves backwards', async () => {
    const tokens = new TokensRepository();
    await t.storage.transact((tx) => tokens.insert(tx, { id: 'tok_used', name: 'ci', role: 'executor', plugins: null, createdAt: '2026-01-01T00:00:00.000Z', revokedAt: null }, 'hash-used'));
    const lastUsed = async () => (await tokens.findById(t.storage.reader, 'tok_used'))?.lastUsedAt;
    const record = (storage: Storage, at: string, unlessSince: string) => storage.transact((tx) => tokens.recordUse(tx, 'tok_used', at, unlessSince));
    expect(await lastUsed()).toBeNull();
    expect(await record(t.storage, '2026-01-01T10:00:00.000Z', '2026-01-01T09:59:00.000Z')).toBe(true);
    const another = await t.openAnother();
    try {
      // Within the window, on the other instance: not written again.
      expect(await record(another.storage, '2026-01-01T10:00:30.000Z', '2026-01-01T09:59:30.000Z')).toBe(false);
      expect(await lastUsed()).toBe('2026-01-01T10:00:00.000Z');
      // A clock behind the one that wrote: never earlier.
      expect(await record(another.storage, '2026-01-01T09:58:00.000Z', '2026-01-01T09:57:00.000Z')).toBe(false);
      // A window later: written.
      expect(await record(another.storage, '2026-01-01T10:01:00.000Z', '2026-01-01T10:00:00.001Z')).toBe(true);
    } finally {
      await another.close();
    }
    expect(await lastUsed()).toBe('2026-01-01T10:01:00.000Z');
  });

  it('a relay checkpoint never moves backwards', async () => {
    const checkpoints = new RelayCheckpoints();
    await t.storage.transact((tx) => checkpoints.save(tx, 'relay', 5));
    await t.storage.transact((tx) => checkpoints.save(tx, 'relay', 3));
    expect(await checkpoints.get(t.storage.reader, 'relay')).toBe(5);
    await t.storage.transact((tx) => checkpoints.save(tx, 'relay', 8));
    expect(await checkpoints.get(t.storage.reader, 'relay')).toBe(8);
  });

  it('a second instance on the same database appends to the same chain (SQLite: one process at a time; PostgreSQL: both at once)', async () => {
    const another = await t.openAnother();
    const otherStore = new EventStore(new MasterKeyring([{ kid: 'k1', key: randomBytes(32) }]));
    try {
      const writes = Array.from({ length: 30 }, (_, i) => {
        const [storage, s] = i % 2 === 0 ? [t.storage, store] : [another.storage, otherStore];
        return storage.transact((tx) => s.appendToStream(tx, `stream-${i}`, 0, [{ type: StoredEventType.AccessDenied, data: { action: `w${i}` } }], ACTOR));
      });
      await Promise.all(writes);
      expect((await events()).map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(await verifyChain(new AuditLog(another.storage.reader))).toMatchObject({ ok: true, checked: 30 });
    } finally {
      await another.close();
    }
  });

  it('a commit that announced wakes the listeners of every instance on the database; a job that failed announces nothing', async () => {
    const another = await t.openAnother();
    const heard = { here: 0, there: 0 };
    t.storage.onAnnounced('secret_changes', () => (heard.here += 1));
    another.storage.onAnnounced('secret_changes', () => (heard.there += 1));
    try {
      // Give the PostgreSQL listener connection time to LISTEN before the first NOTIFY.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await expect(
        t.storage.transact(async (tx) => {
          tx.announce('secret_changes');
          throw new Error('rolled back');
        }),
      ).rejects.toThrow(/rolled back/);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(heard).toEqual({ here: 0, there: 0 });
      await command('KEY_ANNOUNCED', 'v');
      await expectEventually(() => expect(heard.here).toBeGreaterThanOrEqual(1), 5_000);
      // SQLite has one process per file: only PostgreSQL's instances hear each other.
      if (engine === 'postgres') await expectEventually(() => expect(heard.there).toBeGreaterThanOrEqual(1), 5_000);
      else expect(heard.there).toBe(0);
    } finally {
      await another.close();
    }
  });

  it('a role is held by one instance at a time, and taken over when its holder lets go', async () => {
    const another = await t.openAnother();
    try {
      const mine = t.storage.leadership('notificationRelay');
      const theirs = another.storage.leadership('notificationRelay');
      expect(await mine.holds()).toBe(true);
      if (engine === 'sqlite') {
        // One service process per data dir (the data-dir lock): it holds every role.
        expect(await theirs.holds()).toBe(true);
        return;
      }
      expect(await theirs.holds()).toBe(false);
      expect(await mine.holds()).toBe(true);
      await mine.release();
      expect(await theirs.holds()).toBe(true);
      expect(await mine.holds()).toBe(false);
    } finally {
      await another.close();
    }
  });
});
