import { Logger } from '@nestjs/common';
import type { AppConfig } from '../config/configuration';
import { createApp } from '../app.factory';

export async function serve(config: AppConfig): Promise<void> {
  const app = await createApp(config);
  await app.listen(config.port, config.host);
  // After HTTP: NATS handlers run only once every module is ready. Never waits for NATS itself.
  await app.startAllMicroservices();
  const url = (await app.getUrl()).replace('[::1]', 'localhost');
  new Logger('Serve').log(`listening on ${url} (API /api/v1, docs /docs)`);
  process.stdout.write(`secrets-ledger listening on ${url}\n`);
}
