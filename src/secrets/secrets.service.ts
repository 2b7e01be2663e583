import { Inject, Injectable } from '@nestjs/common';
import { NotFoundError } from '../common/errors';
import type { SecretHistoryEntry } from '../contract/api-types';
import type { Actor } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { StoredEventType } from '../event-store/stored-event-types';
import { STORAGE, Storage, WriteTransaction } from '../storage/sql';
import type { SecretCommand } from './domain/commands';
import { decide, evolve } from './domain/decider';
import { RecordedSecretEvent, isSecretEvent, secretStream } from './domain/events';
import type { PresentSecretState, SecretState } from './domain/secret-state';
import { SecretsReadModel } from './secrets-read-model';

/**
 * One command, start to finish, inside the caller's write transaction: load state, decide,
 * stamp the store-wide revision, append, project.
 */
export async function applySecretCommand(
  tx: WriteTransaction,
  store: EventStore,
  readModel: SecretsReadModel,
  command: SecretCommand,
  actor: Actor,
): Promise<{ state: SecretState; recorded: RecordedSecretEvent[] }> {
  const { state: current, revision: storedRevision } = await readModel.loadWithRevision(tx, command.key);
  const events = decide(command, current);
  if (events.length === 0) return { state: current, recorded: [] };
  // Wakes the notification relay, whichever instance runs it, once this commits.
  tx.announce('secret_changes');
  let revision = storedRevision;
  const stamped = events.map((event) => ({ ...event, data: { ...event.data, revision: ++revision }, keys: [command.key] }));
  const recorded = (await store.appendToStream(tx, secretStream(command.key), current.version, stamped, actor)) as unknown as RecordedSecretEvent[];
  const next = recorded.reduce(evolve, current);
  await readModel.saveWithRevision(tx, next, revision);
  return { state: next, recorded };
}

/**
 * The application service of the secrets feature: runs a command through the decider inside one
 * write transaction — load state, decide, append, project. The commit announces itself
 * (`secret_changes`), which wakes the notification relay on every instance.
 */
@Injectable()
export class SecretsService {
  constructor(
    @Inject(STORAGE) private readonly storage: Storage,
    private readonly store: EventStore,
    private readonly readModel: SecretsReadModel,
  ) {}

  async execute(command: SecretCommand, actor: Actor): Promise<SecretState> {
    const { state } = await this.storage.transact((tx) => applySecretCommand(tx, this.store, this.readModel, command, actor));
    return state;
  }

  async get(key: string): Promise<PresentSecretState> {
    const state = await this.readModel.load(this.storage.reader, key);
    if (state.status !== 'active') throw new NotFoundError(`Secret ${key} does not exist.`);
    return state;
  }

  /** One page in key order, and whether another follows. */
  async page(afterKey: string, limit: number): Promise<{ items: PresentSecretState[]; more: boolean }> {
    const items = await this.readModel.pageActive(this.storage.reader, afterKey, limit + 1);
    return { items: items.slice(0, limit), more: items.length > limit };
  }

  async history(key: string): Promise<SecretHistoryEntry[]> {
    const events = (await this.store.readStream(this.storage.reader, secretStream(key))).filter(isSecretEvent);
    if (events.length === 0) throw new NotFoundError(`Secret ${key} has no history.`);
    return events.map((event) => ({
      version: event.version,
      type: event.type,
      at: event.at,
      actor: event.actor,
      ...(event.type !== StoredEventType.SecretRemoved && event.data.description !== undefined ? { description: event.data.description } : {}),
      // Whether this version sealed a new value: the only trace of a value the history may give.
      ...(event.type === StoredEventType.SecretUpdated ? { valueChanged: event.data.valueChanged } : {}),
    }));
  }
}
