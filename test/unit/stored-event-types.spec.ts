import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAuditFilter } from '../../src/audit/audit-query';
import type { FieldError } from '../../src/common/errors';
import type { NewEvent } from '../../src/event-store/event';
import { SECRET_EVENT_TYPES, STORED_EVENTS, STORED_EVENT_TYPES, StoredEventType, eventTypesOf, type SecretEventType } from '../../src/event-store/stored-event-types';
import type { ChangeNotification } from '../../src/nats/contract';

const SRC = join(__dirname, '../../src');
const CATALOGUE = 'event-store/stored-event-types.ts';
/**
 * Files that spell wire names out on purpose: migrations (both engines') are frozen history (a
 * later rename of a constant must not change what they did), and the NATS contract has no
 * imports so that the SDK can load it alone (its union is checked against the catalogue below).
 */
const SPELLED_OUT = [/^storage\/(postgres\/)?migrations\//, /^nats\/contract\.ts$/];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** Quoted string literals that are catalogue names, e.g. `type: 'SecretAdded'` written by hand. */
function spelledOutNames(source: string, names: readonly string[]): string[] {
  return [...source.matchAll(/(['"])([A-Z][A-Za-z]+)\1/g)].map((match) => match[2]).filter((name) => names.includes(name));
}

function auditFilterErrors(type: string): FieldError[] {
  const errors: FieldError[] = [];
  parseAuditFilter({ type }, errors);
  return errors;
}

type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

describe('the catalogue of stored event types', () => {
  it('names every type once, and each constant is its own wire name', () => {
    expect(new Set(STORED_EVENT_TYPES).size).toBe(STORED_EVENT_TYPES.length);
    expect(STORED_EVENT_TYPES.length).toBeGreaterThan(0);
    for (const type of STORED_EVENT_TYPES) expect(StoredEventType[type]).toBe(type);
    expect(Object.keys(StoredEventType).sort()).toEqual([...STORED_EVENT_TYPES].sort());
  });

  it('puts every type in exactly one family, and the families cover the catalogue', () => {
    const families = [...new Set(STORED_EVENT_TYPES.map((type) => STORED_EVENTS[type].family))];
    expect(families.flatMap((family) => eventTypesOf(family)).sort()).toEqual([...STORED_EVENT_TYPES].sort());
    expect(SECRET_EVENT_TYPES).toEqual(['SecretAdded', 'SecretUpdated', 'SecretRemoved', 'SecretRolledBack']);
  });

  it('is the list the audit filter accepts: every catalogue type, and nothing else', () => {
    for (const type of STORED_EVENT_TYPES) expect(auditFilterErrors(type)).toEqual([]);
    const refused = auditFilterErrors('SecretDeleted');
    expect(refused).toEqual([{ field: 'type', message: `must be one of ${STORED_EVENT_TYPES.join(', ')}` }]);
    // Inherited object keys are not event types.
    expect(auditFilterErrors('toString')).toHaveLength(1);
  });

  it('is where the NATS contract takes its notification types from', () => {
    const same: Equal<ChangeNotification['type'], SecretEventType> = true;
    expect(same).toBe(true);
  });

  it('is the only list a producer can take a type from', () => {
    // @ts-expect-error a type outside the catalogue does not compile; if it did, this line would fail the build
    const stray: NewEvent = { type: 'SecretDeleted', data: {} };
    expect(stray.type).toBe('SecretDeleted');
  });

  it('is the only place in src/ that spells a wire name out', () => {
    const offenders = sourceFiles(SRC)
      .map((file) => relative(SRC, file).split('\\').join('/'))
      .filter((file) => file !== CATALOGUE && !SPELLED_OUT.some((allowed) => allowed.test(file)))
      .flatMap((file) => spelledOutNames(readFileSync(join(SRC, file), 'utf8'), STORED_EVENT_TYPES).map((name) => `${file}: '${name}'`));
    expect(offenders).toEqual([]);
  });

  it('the scan sees a name spelled out (control)', () => {
    expect(spelledOutNames(`emit({ type: 'TokenIssued' }); emit({ type: "SecretsResolved" }); const other = 'Tick';`, STORED_EVENT_TYPES)).toEqual([
      'TokenIssued',
      'SecretsResolved',
    ]);
  });
});
