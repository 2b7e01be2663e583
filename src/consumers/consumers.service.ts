import { Inject, Injectable } from '@nestjs/common';
import { NotFoundError } from '../common/errors';
import { SecretsReadModel } from '../secrets/secrets-read-model';
import { STORAGE, Storage } from '../storage/sql';
import { SecretConsumer, SecretConsumers } from './secret-consumers';

/** Who holds which version of a secret (SPEC §3, consumers), read from the projection the resolves keep. */
@Injectable()
export class ConsumersService {
  constructor(
    @Inject(STORAGE) private readonly storage: Storage,
    private readonly consumers: SecretConsumers,
    private readonly readModel: SecretsReadModel,
  ) {}

  /** A removed secret keeps its consumers (nobody current); a key never stored is 404. */
  async of(key: string, now = new Date()): Promise<SecretConsumer[]> {
    const reader = this.storage.reader;
    if ((await this.readModel.load(reader, key)).status === 'absent') throw new NotFoundError(`Secret ${key} does not exist.`);
    return this.consumers.list(reader, key, now);
  }

  countStale(now = new Date()): Promise<number> {
    return this.consumers.countStale(this.storage.reader, now);
  }
}
