import type { Database } from 'better-sqlite3';
import type { AppConfig } from '../config/configuration';
import { MasterKeyRotation } from '../crypto/master-key-rotation';
import { MasterKeyring, prependDevKey } from '../crypto/master-keyring';
import { EventStore } from '../event-store/event-store';
import { SQLITE } from '../storage/database.module';
import { SqliteWriter } from '../storage/sqlite-writer';
import { withLedger } from './ledger-context';
import { progressReporter } from './progress';

/**
 * `secrets-ledger rotate-master-key`. With SECRETS_MASTER_KEYS the operator has already put the
 * new key first; without it (development) a new key is generated and put first in the key file.
 */
export async function rotateMasterKeyCommand(config: AppConfig): Promise<void> {
  const devKeys = config.masterKeys.length === 0;
  if (devKeys) {
    const { file, kid } = prependDevKey(config.dataDir);
    process.stdout.write(`generated master key ${kid} and made it active in ${file}\n`);
  }
  await withLedger(config, async (app) => {
    const rotation = new MasterKeyRotation(app.get<Database>(SQLITE), app.get(SqliteWriter), app.get(EventStore), app.get(MasterKeyring));
    const progress = progressReporter('rewrapping data keys', rotation.pending());
    const result = await rotation.rotate(progress.update);
    progress.stop();
    process.stdout.write(
      `rewrapped ${result.rewrapped} data keys from [${result.from.join(', ')}] to ${result.to}; recorded MasterKeyRotated at seq ${result.seq}\n`,
    );
    const where = devKeys ? 'the key file' : 'SECRETS_MASTER_KEYS';
    for (const kid of result.retirable) process.stdout.write(`no data key uses ${kid} any more: it may be retired (removed from ${where})\n`);
  });
}
