import { AlreadyExistsError, ConflictError, NotFoundError, ValidationError, VersionMismatchError } from '../../common/errors';
import type { DestroySecretVersion, RollbackSecret, SecretCommand } from './commands';
import { StoredEventType } from '../../event-store/stored-event-types';
import { SecretEvent, SecretFact, SecretRolledBack, SecretVersionDestroyed, secretStream } from './events';
import { normalizeExpiresAt } from './expiry';
import { ABSENT, SecretState } from './secret-state';
import { SecretVersions, VersionHolding } from './secret-versions';
import { assertValidSecretFields } from './validation';

/**
 * The secrets decider: pure business rules, no I/O, no clock. `decide` turns a command and the
 * current state into new events (or a coded error); `evolve` folds a recorded event into state.
 * The read model is `evolve` applied inline; a rebuild is `evolve` over the whole log.
 */
export function decide(command: SecretCommand, state: SecretState, versions?: SecretVersions): SecretEvent[] {
  switch (command.type) {
    case 'AddSecret': {
      assertValidSecretFields(command);
      if (state.status === 'active') throw new AlreadyExistsError(`Secret ${command.key} already exists.`);
      return [
        {
          type: StoredEventType.SecretAdded,
          data: { key: command.key, description: command.description ?? '', ...(command.expiresAt !== undefined ? { expiresAt: normalizeExpiresAt(command.expiresAt) } : {}) },
          value: command.value,
        },
      ];
    }
    case 'UpdateSecret': {
      if (command.value === undefined && command.description === undefined && command.expiresAt === undefined) {
        throw new ValidationError('Nothing to change: give a value, a description, an expiry, or several.', [
          { field: 'value', message: 'value, description or expiresAt is required' },
        ]);
      }
      assertValidSecretFields(command);
      const current = requireActive(command.key, state, command.expectedVersion);
      const descriptionChanged = command.description !== undefined && command.description !== current.description;
      const expiresAt = command.expiresAt === undefined || command.expiresAt === null ? command.expiresAt : normalizeExpiresAt(command.expiresAt);
      const expiryChanged = expiresAt !== undefined && expiresAt !== (current.expiresAt ?? null);
      // Re-sending the same description or expiry alone changes nothing, so nothing is recorded.
      if (command.value === undefined && !descriptionChanged && !expiryChanged) return [];
      return [
        {
          type: StoredEventType.SecretUpdated,
          data: {
            key: command.key,
            ...(descriptionChanged ? { description: command.description } : {}),
            valueChanged: command.value !== undefined,
            ...(expiryChanged ? { expiresAt } : {}),
          },
          ...(command.value !== undefined ? { value: command.value } : {}),
        },
      ];
    }
    case 'RemoveSecret': {
      requireActive(command.key, state, command.expectedVersion);
      return [{ type: StoredEventType.SecretRemoved, data: { key: command.key } }];
    }
    case 'RollbackSecret':
      return [rollback(command, state, required(versions, command.key))];
  }
}

/** The value of `toVersion`, sealed again as the next version: never one destroyed, removed or current. */
function rollback(command: RollbackSecret, state: SecretState, versions: SecretVersions): SecretRolledBack {
  const current = requireActive(command.key, state, command.expectedVersion);
  const holding = holdingAt(command.key, command.toVersion, versions, 'toVersion');
  if (command.toVersion === current.version) throw new ConflictError(`Version ${command.toVersion} is the current version of ${command.key}.`);
  if (holding.kind === 'removal') throw new ConflictError(`Version ${command.toVersion} of ${command.key} removed it: there is no value to roll back to.`);
  if (versions.destroyed.has(holding.sealedIn)) {
    throw new ConflictError(`The value of version ${command.toVersion} of ${command.key} was destroyed: it can never be opened again.`);
  }
  return {
    type: StoredEventType.SecretRolledBack,
    data: { key: command.key, version: current.version + 1, toVersion: command.toVersion },
    valueOf: { eventId: holding.valueEventId, version: holding.sealedIn },
  };
}

/**
 * Deleting the data key of the value `version` sealed: only a version that sealed one of its own,
 * never the one the secret holds now. Destroying it again records nothing.
 */
export function decideDestroy(command: DestroySecretVersion, state: SecretState, versions: SecretVersions): SecretVersionDestroyed[] {
  if (state.status === 'absent') throw new NotFoundError(`Secret ${command.key} does not exist.`);
  const holding = holdingAt(command.key, command.version, versions, 'version');
  if (holding.kind === 'removal' || holding.sealedIn !== command.version) {
    const whose = holding.kind === 'value' ? `; its value is version ${holding.sealedIn}'s` : '';
    throw new ConflictError(`Version ${command.version} of ${command.key} sealed no value of its own${whose}.`);
  }
  if (versions.destroyed.has(command.version)) return [];
  if (state.status === 'active' && state.valueEventId === holding.valueEventId) {
    throw new ConflictError(`Version ${command.version} holds the current value of ${command.key}: update or remove the secret first.`);
  }
  return [{ type: StoredEventType.SecretVersionDestroyed, data: { key: command.key, version: command.version }, keys: [command.key] }];
}

function holdingAt(key: string, version: number, versions: SecretVersions, field: string): VersionHolding {
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new ValidationError(`${field} must be a version number.`, [{ field, message: 'must be an integer of at least 1' }]);
  }
  const holding = versions.holdings.get(version);
  if (!holding) throw new NotFoundError(`Secret ${key} has no version ${version}.`);
  return holding;
}

function required(versions: SecretVersions | undefined, key: string): SecretVersions {
  if (!versions) throw new Error(`the versions of ${key} were not loaded for a command that decides on them`);
  return versions;
}

function requireActive(key: string, state: SecretState, expectedVersion: number | undefined) {
  if (state.status !== 'active') throw new NotFoundError(`Secret ${key} does not exist.`);
  if (expectedVersion !== undefined && expectedVersion !== state.version) {
    throw new VersionMismatchError(secretStream(key), expectedVersion, state.version, `Secret ${key}`);
  }
  return state;
}

export function evolve(state: SecretState, event: SecretFact): SecretState {
  switch (event.type) {
    case StoredEventType.SecretAdded:
      return {
        status: 'active',
        key: event.data.key,
        version: event.version,
        description: event.data.description,
        createdAt: event.at,
        createdBy: event.actor.name,
        updatedAt: event.at,
        updatedBy: event.actor.name,
        valueEventId: event.id,
        ...(event.data.expiresAt !== undefined ? { expiresAt: event.data.expiresAt } : {}),
      };
    case StoredEventType.SecretUpdated: {
      if (state.status !== 'active') return state;
      const { expiresAt, ...unchanged } = state;
      // null clears the expiry; absent leaves it as it was.
      const expiry = event.data.expiresAt === undefined ? expiresAt : (event.data.expiresAt ?? undefined);
      return {
        ...unchanged,
        version: event.version,
        description: event.data.description ?? state.description,
        updatedAt: event.at,
        updatedBy: event.actor.name,
        valueEventId: event.data.valueChanged ? event.id : state.valueEventId,
        ...(expiry !== undefined ? { expiresAt: expiry } : {}),
      };
    }
    case StoredEventType.SecretRemoved: {
      if (state.status !== 'active') return state;
      return { ...state, status: 'removed', version: event.version, updatedAt: event.at, updatedBy: event.actor.name, valueEventId: null };
    }
    case StoredEventType.SecretRolledBack: {
      if (state.status !== 'active') return state;
      return { ...state, version: event.version, updatedAt: event.at, updatedBy: event.actor.name, valueEventId: event.id };
    }
  }
}

export function fold(events: SecretFact[], initial: SecretState = ABSENT): SecretState {
  return events.reduce(evolve, initial);
}
