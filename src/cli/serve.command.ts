import type { AppConfig } from '../config/configuration';
import { createApp } from '../app.factory';

export async function serve(config: AppConfig): Promise<void> {
  const app = await createApp(config);
  await app.listen(config.port, config.host);
  const url = (await app.getUrl()).replace('[::1]', 'localhost');
  // Fastify logs "Server listening" as JSON; this plain line is for people and scripts (the
  // tests and the benchmark wait for it).
  process.stdout.write(`secrets-ledger listening on ${url} (console /, API /api/v1, docs /docs)\n`);
}
