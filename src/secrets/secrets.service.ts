import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConflictError, NotFoundError } from '../common/errors';
import type { Actor, NewEvent } from '../event-store/event';
import { ANY_VERSION, EventStore } from '../event-store/event-store';
import type { SecretHistoryEntry } from '../contract/api-types';
import { StoredEventType } from '../event-store/stored-event-types';
import { STORAGE, SqlSession, Storage, WriteTransaction } from '../storage/sql';
import type { DestroySecretVersion, SecretCommand } from './domain/commands';
import { decide, decideDestroy, evolve } from './domain/decider';
import { DestructionFact, RecordedSecretEvent, SecretEvent, SecretFact, destroyedStream, isDestructionEvent, isSecretEvent, secretStream } from './domain/events';
import type { PresentSecretState, SecretState } from './domain/secret-state';
import { SecretVersions, foldVersions, isDestroyed } from './domain/secret-versions';
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
  const versions = command.type === 'RollbackSecret' ? await loadVersions(tx, store, command.key) : undefined;
  const events = await withValues(tx, store, command.key, decide(command, current, versions));
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
 * A rollback's value is opened here, inside the service, and handed straight to the store to be
 * sealed again under a fresh data key: it never leaves the process, and no one who asked reads it.
 */
async function withValues(tx: WriteTransaction, store: EventStore, key: string, events: SecretEvent[]): Promise<NewEvent[]> {
  const withOpened: NewEvent[] = [];
  for (const event of events) {
    if (event.type !== StoredEventType.SecretRolledBack || !event.valueOf) {
      withOpened.push(event);
      continue;
    }
    const { valueOf, ...rest } = event;
    const opened = await store.openValues(tx, [{ eventId: valueOf.eventId, stream: secretStream(key) }]);
    const value = opened.values.get(valueOf.eventId);
    if (!value) {
      throw new ConflictError(`The value of version ${event.data.toVersion} of ${key} does not open (${opened.unreadable.get(valueOf.eventId)?.reason ?? 'unknown reason'}); nothing was changed.`);
    }
    withOpened.push({ ...rest, value });
  }
  return withOpened;
}

/** Every version of a key and which were destroyed: its stream and its `destroyed-<KEY>` stream. */
async function loadVersions(session: SqlSession, store: EventStore, key: string): Promise<SecretVersions> {
  const facts = (await store.readStream(session, secretStream(key))).filter(isSecretEvent) as unknown as SecretFact[];
  return foldVersions([...facts, ...(await destructions(session, store, key))]);
}

async function destructions(session: SqlSession, store: EventStore, key: string): Promise<DestructionFact[]> {
  return (await store.readStream(session, destroyedStream(key))).filter(isDestructionEvent);
}

/**
 * Destroys one version's value: its wrapped data key (the one row the service ever deletes) goes,
 * and `SecretVersionDestroyed` is appended, in one transaction. The ciphertext stays in the log,
 * which the chain covers, and without its data key it never opens again.
 */
export async function applyDestroy(tx: WriteTransaction, store: EventStore, readModel: SecretsReadModel, command: DestroySecretVersion, actor: Actor): Promise<void> {
  const state = await readModel.load(tx, command.key);
  const versions = await loadVersions(tx, store, command.key);
  const events = decideDestroy(command, state, versions);
  if (events.length === 0) return;
  const holding = versions.holdings.get(command.version);
  if (holding?.kind !== 'value') throw new Error('a destroy was decided for a version without a value');
  await store.destroyValue(tx, { eventId: holding.valueEventId, stream: secretStream(command.key) });
  await store.appendToStream(tx, destroyedStream(command.key), ANY_VERSION, events, actor);
}

/**
 * The application service of the secrets feature: runs a command through the decider inside one
 * write transaction — load state, decide, append, project. The commit announces itself
 * (`secret_changes`), which wakes the notification relay on every instance.
 */
@Injectable()
export class SecretsService {
  private readonly logger = new Logger('Secrets');

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

  async destroyVersion(command: DestroySecretVersion, actor: Actor): Promise<void> {
    await this.storage.transact((tx) => applyDestroy(tx, this.store, this.readModel, command, actor));
    if (!(await this.storage.forgetDeleted())) {
      this.logger.warn(`${command.key} version ${command.version} is destroyed, but the database's write-ahead log could not be emptied yet: a file copy taken before the next checkpoint may still hold its wrapped data key.`);
    }
  }

  async history(key: string): Promise<SecretHistoryEntry[]> {
    const reader = this.storage.reader;
    const events = (await this.store.readStream(reader, secretStream(key))).filter(isSecretEvent);
    if (events.length === 0) throw new NotFoundError(`Secret ${key} has no history.`);
    const destroys = await destructions(reader, this.store, key);
    const destroyedBy = new Map(destroys.map((event) => [event.data.version, { at: event.at, by: event.actor.name }]));
    const versions = foldVersions([...(events as unknown as SecretFact[]), ...destroys]);
    return events.map((event) => {
      const holding = versions.holdings.get(event.version);
      const destroyed = isDestroyed(versions, event.version) && holding?.kind === 'value' ? destroyedBy.get(holding.sealedIn) : undefined;
      return {
        version: event.version,
        type: event.type,
        at: event.at,
        actor: event.actor,
        ...('description' in event.data && event.data.description !== undefined ? { description: event.data.description } : {}),
        // Whether this version sealed a new value: the only trace of a value the history may give.
        ...(event.type === StoredEventType.SecretUpdated ? { valueChanged: event.data.valueChanged } : {}),
        ...(event.type === StoredEventType.SecretRolledBack ? { toVersion: event.data.toVersion } : {}),
        ...('expiresAt' in event.data && event.data.expiresAt !== undefined ? { expiresAt: event.data.expiresAt } : {}),
        ...(destroyed ? { destroyed } : {}),
      };
    });
  }
}
