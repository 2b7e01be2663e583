import { AlreadyExistsError, NotFoundError, ValidationError, VersionMismatchError } from '../../common/errors';
import type { SecretCommand } from './commands';
import { StoredEventType } from '../../event-store/stored-event-types';
import { SecretEvent, SecretFact, secretStream } from './events';
import { normalizeExpiresAt } from './expiry';
import { ABSENT, SecretState } from './secret-state';
import { assertValidSecretFields } from './validation';

/**
 * The secrets decider: pure business rules, no I/O, no clock. `decide` turns a command and the
 * current state into new events (or a coded error); `evolve` folds a recorded event into state.
 * The read model is `evolve` applied inline; a rebuild is `evolve` over the whole log.
 */
export function decide(command: SecretCommand, state: SecretState): SecretEvent[] {
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
  }
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
  }
}

export function fold(events: SecretFact[], initial: SecretState = ABSENT): SecretState {
  return events.reduce(evolve, initial);
}
