import { AuditLog } from '../../src/audit/audit-log';
import { ChainVerifier } from '../../src/audit/chain-verifier';
import { MasterKeyring } from '../../src/crypto/master-keyring';
import { EventStore } from '../../src/event-store/event-store';
import { StoredEventType } from '../../src/event-store/stored-event-types';
import { ENGINES, TestStorage, openTestStorage } from '../support/engines';
import { randomBytes } from 'node:crypto';

const ACTOR = { id: 'tok_chain', name: 'chain', role: 'admin' };

/**
 * The service's verifier is fed from two places at once: its start-up slices and each readiness
 * probe. On PostgreSQL every page is a round trip, so two feeds overlap, and one that started
 * from the same verified seq as the other fed it rows it had already accepted: an intact log
 * reported broken ("seq 2 is missing: the row after seq 1 is seq 1"), readiness down.
 */
describe.each(ENGINES)('the chain verifier on %s', (engine) => {
  let t: TestStorage;
  beforeEach(async () => {
    t = await openTestStorage(engine, 'chain_verifier');
    const store = new EventStore(new MasterKeyring([{ kid: 'k1', key: randomBytes(32) }]));
    for (let i = 0; i < 12; i++) {
      await t.storage.transact((tx) => store.appendToStream(tx, `s-${i}`, 0, [{ type: StoredEventType.AccessDenied, data: { action: `a${i}` } }], ACTOR));
    }
  });
  afterEach(() => t.cleanup());

  it('fed by several callers at once, finds an intact log intact and reads each row once', async () => {
    const verifier = new ChainVerifier();
    const log = new AuditLog(t.storage.reader);
    const reads = await Promise.all([verifier.advance(log, 5), verifier.advance(log), verifier.advance(log)]);
    expect(verifier.broken).toBeUndefined();
    expect(verifier.verifiedSeq).toBe(12);
    expect(reads.reduce((sum, read) => sum + read, 0)).toBe(12);
    expect(verifier.checked).toBe(12);
  });

  it('still stops at a real break (control)', async () => {
    const verifier = new ChainVerifier();
    const log = new AuditLog(t.storage.reader);
    await verifier.advance(log);
    const rows = await new AuditLog(t.storage.reader).page({}, 0, 100);
    expect(rows.items).toHaveLength(12);
    // A row that chains to nothing, appended behind the verifier's back.
    await t.storage.transact((tx) =>
      tx.run("INSERT INTO events (seq, id, stream, version, type, data, ciphertext, actor, at, prev_hash, hash) VALUES (13, 'forged', 'forged', 1, 't', '{}', NULL, '{}', 'now', 'nothing', 'x')"),
    );
    await Promise.all([verifier.advance(log), verifier.advance(log)]);
    expect(verifier.broken).toEqual({ brokenAt: 13, reason: 'prevHash of seq 13 is not the hash of seq 12' });
  });
});
