import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../src/audit/audit-log';
import { verifyChain } from '../../src/audit/chain-verifier';
import { rebuildConsumers } from '../../src/consumers/consumers-rebuild';
import { SecretConsumers } from '../../src/consumers/secret-consumers';
import { MasterKeyring } from '../../src/crypto/master-keyring';
import { EventStore } from '../../src/event-store/event-store';
import { rebuildReadModel } from '../../src/secrets/read-model-rebuild';
import { SecretsReadModel } from '../../src/secrets/secrets-read-model';
import { SqliteSession } from '../../src/storage/sqlite/sqlite-session';
import { SqliteStorage, applyPragmas } from '../../src/storage/sqlite/sqlite-storage';

/**
 * What a database file holds after a fault or a crash, read by a fresh connection: whether the
 * chain verifies, the read model and who holds which version (`secret_consumers`), and what a
 * rebuild of both from the log alone produces (on a copy, elsewhere: the original may sit on a
 * full disk and must not change).
 */
export async function ledgerState(path: string) {
  const scratch = mkdtempSync(join(tmpdir(), 'ledger-state-'));
  try {
    const live = new Database(path);
    const liveSession = new SqliteSession(live);
    const verified = await verifyChain(new AuditLog(liveSession));
    const readModel = await new SecretsReadModel().snapshot(liveSession);
    const revision = await new SecretsReadModel().revision(liveSession);
    const consumers = await consumerRows(liveSession);
    const copyPath = join(scratch, 'copy.db');
    live.prepare('VACUUM INTO ?').run(copyPath);
    live.close();

    const copy = new Database(copyPath);
    applyPragmas(copy);
    const storage = new SqliteStorage(copy);
    // Rebuilding reads no value: a keyring is needed to build the store, not to replay it.
    const store = new EventStore(new MasterKeyring([{ kid: 'unused', key: randomBytes(32) }]));
    const rebuiltModel = new SecretsReadModel();
    await rebuildReadModel(storage, store, rebuiltModel);
    const rebuilt = { readModel: await rebuiltModel.snapshot(storage.reader), revision: await rebuiltModel.revision(storage.reader) };
    await rebuildConsumers(storage, store, new SecretConsumers());
    const rebuiltConsumers = await consumerRows(storage.reader);
    await storage.close();
    copy.close();
    return { chainOk: verified.ok, verified, readModel, revision, rebuilt, consumers, rebuiltConsumers };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Every `secret_consumers` row, in key order: what the projection says of who read what. */
export function consumerRows(session: Pick<SqliteSession, 'all'>): Promise<object[]> {
  return session.all('SELECT key, token_id, plugin, token_name, version, resolved_at, seq FROM secret_consumers ORDER BY key, token_id, plugin');
}
