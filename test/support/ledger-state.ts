import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../src/audit/audit-log';
import { verifyChain } from '../../src/audit/chain-verifier';
import { MasterKeyring } from '../../src/crypto/master-keyring';
import { EventStore } from '../../src/event-store/event-store';
import { rebuildReadModel } from '../../src/secrets/read-model-rebuild';
import { SecretsReadModel } from '../../src/secrets/secrets-read-model';
import { SqliteSession } from '../../src/storage/sqlite/sqlite-session';
import { SqliteStorage, applyPragmas } from '../../src/storage/sqlite/sqlite-storage';

/**
 * What a database file holds after a fault or a crash, read by a fresh connection: whether the
 * chain verifies, the read model, and the read model a rebuild from the log alone produces (on a
 * copy, elsewhere: the original may sit on a full disk and must not change).
 */
export async function ledgerState(path: string) {
  const scratch = mkdtempSync(join(tmpdir(), 'ledger-state-'));
  try {
    const live = new Database(path);
    const liveSession = new SqliteSession(live);
    const verified = await verifyChain(new AuditLog(liveSession));
    const readModel = await new SecretsReadModel().snapshot(liveSession);
    const revision = await new SecretsReadModel().revision(liveSession);
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
    await storage.close();
    copy.close();
    return { chainOk: verified.ok, verified, readModel, revision, rebuilt };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
