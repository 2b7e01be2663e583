import type { AppConfig } from '../config/configuration';
import { EventStore } from '../event-store/event-store';
import { SECRET_EVENT_TYPES } from '../event-store/stored-event-types';
import { rebuildReadModel } from '../secrets/read-model-rebuild';
import { SecretsReadModel } from '../secrets/secrets-read-model';
import { STORAGE, Storage } from '../storage/sql';
import { withLedger } from './ledger-context';
import { progressReporter } from './progress';

export async function rebuildReadModelCommand(config: AppConfig): Promise<void> {
  await withLedger(config, async (ledger) => {
    const store = ledger.get(EventStore);
    const storage = ledger.get<Storage>(STORAGE);
    const progress = progressReporter('replaying secret events', await store.count(storage.reader, SECRET_EVENT_TYPES));
    const result = await rebuildReadModel(storage, store, ledger.get(SecretsReadModel), progress.update);
    progress.stop();
    process.stdout.write(`rebuilt the read model from ${result.events} events: ${result.secrets} keys, revision ${result.revision}\n`);
  });
}
