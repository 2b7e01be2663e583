import { AlreadyExistsError, ConflictError, NotFoundError, ValidationError, VersionMismatchError } from '../../src/common/errors';
import { SecretValue } from '../../src/crypto/secret-value';
import type { Actor } from '../../src/event-store/event';
import type { DestroySecretVersion, SecretCommand } from '../../src/secrets/domain/commands';
import { decide, decideDestroy, evolve, fold } from '../../src/secrets/domain/decider';
import type { DestructionFact, RecordedSecretEvent, SecretEvent, SecretVersionDestroyed } from '../../src/secrets/domain/events';
import { ABSENT, SecretState } from '../../src/secrets/domain/secret-state';
import { NO_VERSIONS, SecretVersions, evolveVersions, isDestroyed } from '../../src/secrets/domain/secret-versions';

// Given / when / then over the pure decider: past events in, new events (or an error) out.

const admin: Actor = { id: 'tok_1', name: 'alice', role: 'admin' };
let clock = 0;

function recorded(events: SecretEvent[], fromVersion = 0): RecordedSecretEvent[] {
  return events.map((event, i) => ({
    seq: ++clock,
    id: `evt-${clock}`,
    stream: `secret-${event.data.key}`,
    version: fromVersion + i + 1,
    type: event.type,
    data: event.data,
    actor: admin,
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, clock)).toISOString(),
    hasValue: event.value !== undefined || 'valueOf' in event,
    prevHash: '',
    hash: '',
  })) as RecordedSecretEvent[];
}

function recordedDestroys(events: SecretVersionDestroyed[]): DestructionFact[] {
  return events.map((event) => ({ seq: ++clock, id: `evt-${clock}`, stream: `destroyed-${event.data.key}`, version: clock, type: event.type, data: event.data, actor: admin, at: '', hasValue: false }));
}

/** Given these commands, destroys included: the state and the versions the version commands decide on. */
function givenVersions(...commands: (SecretCommand | DestroySecretVersion)[]): { state: SecretState; versions: SecretVersions } {
  let state = ABSENT;
  let versions = NO_VERSIONS;
  for (const command of commands) {
    if (command.type === 'DestroySecretVersion') {
      versions = recordedDestroys(decideDestroy(command, state, versions)).reduce(evolveVersions, versions);
      continue;
    }
    const events = recorded(decide(command, state, versions), state.version);
    state = fold(events, state);
    versions = events.reduce(evolveVersions, versions);
  }
  return { state, versions };
}

/** Given these commands already happened (each decided against the state the previous left). */
function given(...commands: SecretCommand[]): SecretState {
  return commands.reduce((state, command) => fold(recorded(decide(command, state), state.version), state), ABSENT);
}

const v = (s: string) => new SecretValue(s);
const add = (key = 'API_TOKEN', value = 's3cr3t', description?: string): SecretCommand => ({ type: 'AddSecret', key, value: v(value), description });

describe('secrets decider', () => {
  describe('AddSecret', () => {
    it('given nothing, adds the secret with an empty description by default', () => {
      const events = decide(add(), ABSENT);
      expect(events).toEqual([{ type: 'SecretAdded', data: { key: 'API_TOKEN', description: '' }, value: expect.any(SecretValue) }]);
      expect(events[0].value?.reveal()).toBe('s3cr3t');
    });

    it('given an active secret, refuses a second add', () => {
      expect(() => decide(add(), given(add()))).toThrow(AlreadyExistsError);
    });

    it('given a removed secret, adds it again and the version continues', () => {
      const state = given(add(), { type: 'RemoveSecret', key: 'API_TOKEN' });
      expect(state.version).toBe(2);
      const readded = fold(recorded(decide(add(), state), state.version), state);
      expect(readded).toMatchObject({ status: 'active', version: 3 });
    });

    it.each([
      ['my_key'],
      ['_A'],
      ['A__B'],
      ['A_'],
      ['1A'],
      ['A'.repeat(129)],
    ])('refuses the key %s', (key) => {
      expect(() => decide(add(key), ABSENT)).toThrow(ValidationError);
    });

    it.each([['MY_SECRET_KEY'], ['FIFTYONE_CVAT_URL'], ['A'], ['A1_B2'], ['A'.repeat(128)]])('accepts the key %s', (key) => {
      expect(decide(add(key), ABSENT)).toHaveLength(1);
    });

    it('refuses an empty value and one over 65,536 UTF-8 bytes, and names every bad field', () => {
      expect(() => decide(add('K', ''), ABSENT)).toThrow(ValidationError);
      // 'é' is two bytes: 32,769 of them are 65,538 bytes although only 32,769 characters.
      const error = captureError(() => decide(add('bad_key', 'é'.repeat(32_769), 'd'.repeat(1_001)), ABSENT));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).errors?.map((e) => e.field)).toEqual(['key', 'value', 'description']);
      expect(decide(add('K', 'x'.repeat(65_536)), ABSENT)).toHaveLength(1);
    });
  });

  describe('UpdateSecret', () => {
    it('given an active secret, records a new value without repeating the description', () => {
      const events = decide({ type: 'UpdateSecret', key: 'API_TOKEN', value: v('new') }, given(add()));
      expect(events).toEqual([{ type: 'SecretUpdated', data: { key: 'API_TOKEN', valueChanged: true }, value: expect.any(SecretValue) }]);
    });

    it('records a description change alone, and nothing when the description is unchanged', () => {
      const state = given(add('API_TOKEN', 'x', 'old'));
      expect(decide({ type: 'UpdateSecret', key: 'API_TOKEN', description: 'new' }, state)).toEqual([
        { type: 'SecretUpdated', data: { key: 'API_TOKEN', description: 'new', valueChanged: false } },
      ]);
      expect(decide({ type: 'UpdateSecret', key: 'API_TOKEN', description: 'old' }, state)).toEqual([]);
    });

    it('refuses an update that changes nothing', () => {
      expect(() => decide({ type: 'UpdateSecret', key: 'API_TOKEN' }, given(add()))).toThrow(ValidationError);
    });

    it('given no secret (or a removed one), answers not found', () => {
      expect(() => decide({ type: 'UpdateSecret', key: 'API_TOKEN', value: v('x') }, ABSENT)).toThrow(NotFoundError);
      const removed = given(add(), { type: 'RemoveSecret', key: 'API_TOKEN' });
      expect(() => decide({ type: 'UpdateSecret', key: 'API_TOKEN', value: v('x') }, removed)).toThrow(NotFoundError);
    });

    it('refuses a stale expected version and accepts the current one', () => {
      const state = given(add(), { type: 'UpdateSecret', key: 'API_TOKEN', value: v('2') });
      expect(() => decide({ type: 'UpdateSecret', key: 'API_TOKEN', value: v('3'), expectedVersion: 1 }, state)).toThrow(VersionMismatchError);
      expect(decide({ type: 'UpdateSecret', key: 'API_TOKEN', value: v('3'), expectedVersion: 2 }, state)).toHaveLength(1);
    });
  });

  describe('RemoveSecret', () => {
    it('given an active secret, removes it; given none, answers not found', () => {
      expect(decide({ type: 'RemoveSecret', key: 'API_TOKEN' }, given(add()))).toEqual([{ type: 'SecretRemoved', data: { key: 'API_TOKEN' } }]);
      expect(() => decide({ type: 'RemoveSecret', key: 'API_TOKEN' }, ABSENT)).toThrow(NotFoundError);
    });

    it('honours the expected version', () => {
      expect(() => decide({ type: 'RemoveSecret', key: 'API_TOKEN', expectedVersion: 7 }, given(add()))).toThrow(VersionMismatchError);
    });
  });

  describe('RollbackSecret', () => {
    const update = (value: string): SecretCommand => ({ type: 'UpdateSecret', key: 'API_TOKEN', value: v(value) });
    const describeIt = (description: string): SecretCommand => ({ type: 'UpdateSecret', key: 'API_TOKEN', description });
    const rollback = (toVersion: number, expectedVersion?: number): SecretCommand => ({ type: 'RollbackSecret', key: 'API_TOKEN', toVersion, expectedVersion });
    const destroy = (version: number): DestroySecretVersion => ({ type: 'DestroySecretVersion', key: 'API_TOKEN', version });

    it("given three values, seals version 1's value again as version 4, naming the event that holds it and no value", () => {
      const { state, versions } = givenVersions(add(), update('two'), update('three'));
      const [event] = decide(rollback(1), state, versions);
      expect(event).toEqual({ type: 'SecretRolledBack', data: { key: 'API_TOKEN', version: 4, toVersion: 1 }, valueOf: { eventId: (versions.holdings.get(1) as { valueEventId: string }).valueEventId, version: 1 } });
      expect(event.value).toBeUndefined();
    });

    it("a version that changed only the description rolls back to the value it held, sealed by the version before", () => {
      const { state, versions } = givenVersions(add(), describeIt('d'), update('three'));
      expect(decide(rollback(2), state, versions)[0]).toMatchObject({ valueOf: { version: 1 } });
    });

    it('after a rollback, the rolled-back version holds a value of its own, and evolve makes it current', () => {
      const { state, versions } = givenVersions(add(), update('two'), rollback(1));
      expect(state).toMatchObject({ status: 'active', version: 3 });
      expect(versions.holdings.get(3)).toMatchObject({ kind: 'value', sealedIn: 3, valueEventId: state.status === 'active' ? state.valueEventId : '' });
    });

    it('refuses the current version, a removal, and a destroyed value (409)', () => {
      const { state, versions } = givenVersions(add(), update('two'));
      expect(() => decide(rollback(2), state, versions)).toThrow(ConflictError);
      const readded = givenVersions(add(), { type: 'RemoveSecret', key: 'API_TOKEN' }, add(), update('four'));
      expect(() => decide(rollback(2), readded.state, readded.versions)).toThrow(/removed it/);
      const destroyed = givenVersions(add(), describeIt('d'), update('three'), destroy(1));
      expect(() => decide(rollback(1), destroyed.state, destroyed.versions)).toThrow(/destroyed/);
      // Version 2 held version 1's value: destroying that destroyed it too.
      expect(() => decide(rollback(2), destroyed.state, destroyed.versions)).toThrow(/destroyed/);
    });

    it('answers not found for an unknown version or key, and 412 for a stale expected version', () => {
      const { state, versions } = givenVersions(add(), update('two'));
      expect(() => decide(rollback(9), state, versions)).toThrow(NotFoundError);
      expect(() => decide(rollback(1), ABSENT, NO_VERSIONS)).toThrow(NotFoundError);
      expect(() => decide(rollback(1, 1), state, versions)).toThrow(VersionMismatchError);
      expect(decide(rollback(1, 2), state, versions)).toHaveLength(1);
      expect(() => decide(rollback(0), state, versions)).toThrow(ValidationError);
    });
  });

  describe('DestroySecretVersion', () => {
    const update = (value: string): SecretCommand => ({ type: 'UpdateSecret', key: 'API_TOKEN', value: v(value) });
    const destroy = (version: number): DestroySecretVersion => ({ type: 'DestroySecretVersion', key: 'API_TOKEN', version });

    it('given an older value, destroys it; destroying it again records nothing', () => {
      const { state, versions } = givenVersions(add(), update('two'));
      expect(decideDestroy(destroy(1), state, versions)).toEqual([{ type: 'SecretVersionDestroyed', data: { key: 'API_TOKEN', version: 1 }, keys: ['API_TOKEN'] }]);
      const after = givenVersions(add(), update('two'), destroy(1));
      expect(isDestroyed(after.versions, 1)).toBe(true);
      expect(isDestroyed(after.versions, 2)).toBe(false);
      expect(decideDestroy(destroy(1), after.state, after.versions)).toEqual([]);
    });

    it('refuses the version holding the current value, even through a description-only change (409)', () => {
      const { state, versions } = givenVersions(add(), update('two'));
      expect(() => decideDestroy(destroy(2), state, versions)).toThrow(/update or remove the secret first/);
      const described = givenVersions(add(), { type: 'UpdateSecret', key: 'API_TOKEN', description: 'd' });
      expect(() => decideDestroy(destroy(1), described.state, described.versions)).toThrow(ConflictError);
    });

    it('refuses a version without a value of its own, and destroys the last value once the secret is removed', () => {
      const { state, versions } = givenVersions(add(), { type: 'UpdateSecret', key: 'API_TOKEN', description: 'd' }, { type: 'RemoveSecret', key: 'API_TOKEN' });
      expect(() => decideDestroy(destroy(2), state, versions)).toThrow(/no value of its own; its value is version 1's/);
      expect(() => decideDestroy(destroy(3), state, versions)).toThrow(ConflictError);
      expect(decideDestroy(destroy(1), state, versions)).toHaveLength(1);
    });

    it('answers not found for an unknown key or version', () => {
      expect(() => decideDestroy(destroy(1), ABSENT, NO_VERSIONS)).toThrow(NotFoundError);
      const { state, versions } = givenVersions(add());
      expect(() => decideDestroy(destroy(5), state, versions)).toThrow(NotFoundError);
    });
  });

  describe('expiry', () => {
    const update = (expiresAt: string | null, extra: object = {}): SecretCommand => ({ type: 'UpdateSecret', key: 'API_TOKEN', expiresAt, ...extra });

    it('an add carries the expiry as the UTC instant it names; the state holds it', () => {
      const events = decide({ ...add(), expiresAt: '2027-03-01T09:00:00+01:00' } as SecretCommand, ABSENT);
      expect(events[0].data).toEqual({ key: 'API_TOKEN', description: '', expiresAt: '2027-03-01T08:00:00.000Z' });
      expect(fold(recorded(events))).toMatchObject({ expiresAt: '2027-03-01T08:00:00.000Z' });
    });

    it('an update that only sets, moves or clears the expiry is a change; the same instant again is none', () => {
      let state = given(add());
      const [set] = decide(update('2027-03-01T08:00:00Z'), state);
      expect(set.data).toEqual({ key: 'API_TOKEN', valueChanged: false, expiresAt: '2027-03-01T08:00:00.000Z' });
      state = fold(recorded([set], state.version), state);
      expect(decide(update('2027-03-01T09:00:00+01:00'), state)).toEqual([]);
      const [cleared] = decide(update(null), state);
      expect(cleared.data).toEqual({ key: 'API_TOKEN', valueChanged: false, expiresAt: null });
      expect(fold(recorded([cleared], state.version), state)).not.toHaveProperty('expiresAt');
      // An update that says nothing of the expiry leaves it.
      const [described] = decide({ type: 'UpdateSecret', key: 'API_TOKEN', description: 'd' }, state);
      expect(fold(recorded([described], state.version), state)).toMatchObject({ expiresAt: '2027-03-01T08:00:00.000Z' });
    });

    it.each(['2027-02-29T00:00:00Z', '2027-03-01', '2027-03-01T08:00:00', '2027-03-01T08:00:60Z', '2027-03-01T08:00:00+24:00', ' 2027-03-01T08:00:00Z'])(
      'refuses %j, naming the field and not the input',
      (expiresAt) => {
        const error = captureError(() => decide({ ...add(), expiresAt } as SecretCommand, ABSENT)) as ValidationError;
        expect(error).toBeInstanceOf(ValidationError);
        expect(error.errors).toEqual([{ field: 'expiresAt', message: expect.not.stringContaining(expiresAt.trim()) }]);
      },
    );

    it.each([
      ['2028-02-29T23:59:59.123456789Z', '2028-02-29T23:59:59.123Z'],
      ['2027-03-01t08:00:00z', '2027-03-01T08:00:00.000Z'],
      ['2027-03-01 08:00:00-05:30', '2027-03-01T13:30:00.000Z'],
    ])('accepts %j as %s', (expiresAt, stored) => {
      expect(decide({ ...add(), expiresAt } as SecretCommand, ABSENT)[0].data).toMatchObject({ expiresAt: stored });
    });
  });

  describe('evolve', () => {
    it('tracks which event holds the current value, and drops it on removal', () => {
      const added = recorded(decide(add(), ABSENT));
      let state = fold(added);
      expect(state).toMatchObject({ status: 'active', valueEventId: added[0].id, createdBy: 'alice' });
      const described = recorded(decide({ type: 'UpdateSecret', key: 'API_TOKEN', description: 'd' }, state), 1);
      state = evolve(state, described[0]);
      expect(state).toMatchObject({ version: 2, description: 'd', valueEventId: added[0].id });
      const removed = recorded(decide({ type: 'RemoveSecret', key: 'API_TOKEN' }, state), 2);
      expect(evolve(state, removed[0])).toMatchObject({ status: 'removed', version: 3, valueEventId: null });
    });
  });
});

function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
