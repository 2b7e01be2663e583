import { NestFactory } from '@nestjs/core';
import type { AppConfig } from '../config/configuration';
import { AppModule } from '../app.module';
import { EventStore } from '../event-store/event-store';
import { rebuildReadModel } from '../secrets/read-model-rebuild';
import { SecretsReadModel } from '../secrets/secrets-read-model';
import { SqliteWriter } from '../storage/sqlite-writer';
import { progressReporter } from './progress';

export async function rebuildReadModelCommand(config: AppConfig): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule.forRoot({ ...config, logLevel: 'warn' }), { logger: ['error', 'warn'] });
  try {
    const store = app.get(EventStore);
    const progress = progressReporter('replaying events', store.head().seq);
    const result = await rebuildReadModel(app.get(SqliteWriter), store, app.get(SecretsReadModel), progress.update);
    progress.stop();
    process.stdout.write(`rebuilt the read model from ${result.events} events: ${result.secrets} keys, revision ${result.revision}\n`);
  } finally {
    await app.close();
  }
}
