import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { SYSTEM_ACTOR } from '../../src/auth/principal';
import { checkpointLog } from '../../src/checkpoints/checkpoint-log';
import { CheckpointWriter } from '../../src/checkpoints/checkpoint-writer';
import { SigningKey } from '../../src/checkpoints/signing-key';
import { MasterKeyring } from '../../src/crypto/master-keyring';
import { ANY_VERSION, EventStore } from '../../src/event-store/event-store';
import { StoredEventType } from '../../src/event-store/stored-event-types';
import type { OpenedStorage } from '../../src/storage/database.module';
import { ENGINES, TestStorage, openTestStorage } from '../support/engines';

/**
 * Two instances on one database, both finding a checkpoint due at once: exactly one is written
 * for each head, and the chain of checkpoints has no fork. On PostgreSQL the leadership also
 * gives the role to one instance only; the writer's own guard (the checkpoint stream's expected
 * version, read under the append lock) holds even when two run anyway.
 */
describe.each(ENGINES)('checkpoint writers on one database (%s)', (engine) => {
  let t: TestStorage;
  let other: OpenedStorage;
  const store = new EventStore(new MasterKeyring([{ kid: 'k1', key: randomBytes(32) }]));
  const key = new SigningKey(generateKeyPairSync('ed25519').privateKey);

  beforeAll(async () => {
    t = await openTestStorage(engine, 'checkpoint-writers');
    other = await t.openAnother();
  });
  afterAll(async () => {
    await other.close();
    await t.cleanup();
  });

  const append = (n: number) =>
    t.storage.transact((tx) => store.appendToStream(tx, 'resolutions', ANY_VERSION, Array.from({ length: n }, () => ({ type: StoredEventType.SecretsResolved, data: {} })), SYSTEM_ACTOR));

  it('writes one checkpoint per head however many writers find it due together', async () => {
    const writers = [t.storage, other.storage].map((storage) => ({ storage, writer: new CheckpointWriter(store, key, { everyEvents: 3, intervalMs: 3_600_000 }) }));
    for (let round = 0; round < 5; round++) {
      await append(3);
      const outcomes = await Promise.allSettled(writers.map(({ storage, writer }) => storage.transact((tx) => writer.writeIfDue(tx))));
      const written = outcomes.filter((o) => o.status === 'fulfilled' && o.value !== undefined);
      expect(written).toHaveLength(1);
    }
    const logged = await checkpointLog.after(t.storage.reader, 0, 100);
    expect(logged).toHaveLength(5);
    logged.forEach(({ eventSeq, checkpoint }, i) => {
      expect(eventSeq).toBe(checkpoint.seq + 1);
      expect(checkpoint.previous).toBe(i === 0 ? 0 : logged[i - 1].checkpoint.seq);
    });
    // Nothing uncovered: no writer finds another due.
    for (const { storage, writer } of writers) expect(await writer.due(storage.reader)).toBe(false);
  });

  it('the role is held by one instance at a time', async () => {
    const roles = [t.storage.leadership('auditCheckpoints'), other.storage.leadership('auditCheckpoints')];
    const held = await Promise.all(roles.map((role) => role.holds()));
    // SQLite: one process per data dir holds every role (DataDirLock); PostgreSQL: an advisory lock.
    expect(held.filter(Boolean)).toHaveLength(engine === 'sqlite' ? 2 : 1);
  });
});
