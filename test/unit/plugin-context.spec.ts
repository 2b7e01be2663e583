import fc from 'fast-check';
import type { ResolveReply } from '../../src/contract/api-types';
import { PluginContext, Precedence } from '../../src/client/plugin-context';

const KEYS = ['KEY_A', 'KEY_B', 'KEY_C', 'KEY_D'];

/** A store's history: write i (revision i + 1) sets a key to a value, or removes it (undefined). */
type Write = { key: string; value: string | undefined };

function stateAt(history: Write[], revision: number): Map<string, string> {
  const state = new Map<string, string>();
  for (const { key, value } of history.slice(0, revision)) {
    if (value === undefined) state.delete(key);
    else state.set(key, value);
  }
  return state;
}

/** What the service answers to a resolve of `keys` read at `revision`. */
function replyAt(history: Write[], revision: number, keys: string[]): ResolveReply {
  const state = stateAt(history, revision);
  const secrets = Object.fromEntries(keys.filter((key) => state.has(key)).map((key) => [key, state.get(key)!]));
  return { secrets, missing: keys.filter((key) => !state.has(key)), unreadable: [], revision };
}

const writes = fc.array(fc.record({ key: fc.constantFrom(...KEYS), value: fc.option(fc.string({ minLength: 1, maxLength: 3 }), { nil: undefined }) }), { maxLength: 12 });
/** A reply as it arrives: the revision it was read at and the keys it asked (undefined: all, a full snapshot). */
const arrivals = (revisions: number) =>
  fc.array(fc.record({ revision: fc.nat({ max: revisions }), keys: fc.option(fc.subarray(KEYS, { minLength: 1 }), { nil: undefined }) }), { minLength: 1, maxLength: 15 });

describe('PluginContext: replies that overtake each other, deltas mixed with snapshots', () => {
  it('each key holds its newest read, whatever order replies arrive in; change fires for exactly the keys whose effective value moved', () => {
    fc.assert(
      fc.property(
        writes.chain((history) => fc.tuple(fc.constant(history), arrivals(history.length))),
        fc.constantFrom<Precedence>('env-first', 'store-first', 'store-only'),
        fc.option(fc.constantFrom(...KEYS), { nil: undefined }),
        ([history, replies], precedence, envKey) => {
          const env = envKey ? { [envKey]: 'from-env' } : {};
          const context = new PluginContext({ name: 'p', secrets: KEYS }, precedence, env);
          const newestRead = new Map<string, number>();
          let newest = -1;
          const fired: string[][] = [];
          context.on('change', (keys) => fired.push(keys));
          for (const { revision, keys } of replies) {
            const before = KEYS.map((key) => context.secrets.get(key));
            fired.length = 0;
            if (keys === undefined) context.applySnapshot(replyAt(history, revision, KEYS));
            else context.applyDelta(replyAt(history, revision, keys), keys);
            for (const key of keys ?? KEYS) newestRead.set(key, Math.max(newestRead.get(key) ?? -1, revision));
            newest = Math.max(newest, revision);

            expect(context.revision).toBe(newest);
            for (const key of KEYS) {
              const read = newestRead.get(key);
              expect(context.readAt(key)).toBe(read ?? -1);
              const stored = read === undefined ? undefined : stateAt(history, read).get(key);
              const fromEnv = precedence === 'store-only' ? undefined : env[key];
              const effective = precedence === 'env-first' ? (fromEnv ?? stored) : (stored ?? fromEnv);
              expect(context.secrets.get(key)).toBe(effective);
            }
            const moved = KEYS.filter((key, i) => context.secrets.get(key) !== before[i]);
            expect(fired).toEqual(moved.length > 0 ? [moved] : []);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a delta reply that lists a key as missing removes it from the context', () => {
    const context = new PluginContext({ name: 'p', secrets: KEYS }, 'store-only', {});
    context.applySnapshot({ secrets: { KEY_A: 'a1', KEY_B: 'b1' }, missing: ['KEY_C', 'KEY_D'], unreadable: [], revision: 2 });
    const fired: string[][] = [];
    context.on('change', (keys) => fired.push(keys));
    context.applyDelta({ secrets: {}, missing: ['KEY_A'], unreadable: [], revision: 3 }, ['KEY_A']);
    expect(context.secrets.has('KEY_A')).toBe(false);
    expect(context.secrets.keys()).toEqual(['KEY_B']);
    expect(fired).toEqual([['KEY_A']]);
  });

  it('an older full snapshot still updates the keys it is newer for, and leaves the newer delta read alone', () => {
    const context = new PluginContext({ name: 'p', secrets: KEYS }, 'store-only', {});
    context.applySnapshot({ secrets: { KEY_A: 'a1', KEY_B: 'b1' }, missing: ['KEY_C', 'KEY_D'], unreadable: [], revision: 2 });
    context.applyDelta({ secrets: { KEY_A: 'a3' }, missing: [], unreadable: [], revision: 5 }, ['KEY_A']);
    // A snapshot read at 4 (after B changed, before A's last change) arrives late.
    context.applySnapshot({ secrets: { KEY_A: 'a2', KEY_B: 'b2' }, missing: ['KEY_C', 'KEY_D'], unreadable: [], revision: 4 });
    expect(context.secrets.get('KEY_A')).toBe('a3');
    expect(context.secrets.get('KEY_B')).toBe('b2');
    expect([context.readAt('KEY_A'), context.readAt('KEY_B'), context.revision]).toEqual([5, 4, 5]);
  });
});

describe('PluginContext: a service whose log went back (restored from a backup, or another database)', () => {
  const nonEmptyWrites = fc.array(fc.record({ key: fc.constantFrom(...KEYS), value: fc.option(fc.string({ minLength: 1, maxLength: 3 }), { nil: undefined }) }), { minLength: 2, maxLength: 12 });

  it('a reply below the revision the context held when it asked replaces every read held, and the new history applies from there', () => {
    fc.assert(
      fc.property(
        nonEmptyWrites.chain((old) =>
          fc.tuple(
            fc.constant(old),
            // The backup: the log as it was at `cut`, some revision before the context's.
            fc.nat({ max: old.length - 1 }).chain((cut) => fc.tuple(fc.constant(cut), writes.map((more) => more.slice(0, old.length - 1 - cut)))),
            fc.option(fc.subarray(KEYS, { minLength: 1 }), { nil: undefined }),
          ),
        ),
        fc.constantFrom(...KEYS),
        ([old, [cut, more], asked], deltaKey) => {
          const context = new PluginContext({ name: 'p', secrets: KEYS }, 'store-only', {});
          context.applySnapshot(replyAt(old, old.length, KEYS));
          const held = context.revision;
          // The restored log: the backup's history, then writes made since the restore.
          const restored = [...old.slice(0, cut), ...more];
          const head = restored.length;
          expect(head).toBeLessThan(held);

          const wentBack = asked === undefined ? context.applySnapshot(replyAt(restored, head, KEYS), held) : context.applyDelta(replyAt(restored, head, asked), asked, held);
          expect(wentBack).toBe(true);
          expect(context.revision).toBe(head);
          for (const key of asked ?? KEYS) expect(context.secrets.get(key)).toBe(stateAt(restored, head).get(key));

          // The next change on the restored log reaches the context like any other.
          const next = [...restored, { key: deltaKey, value: 'after-restore' }];
          expect(context.applyDelta(replyAt(next, next.length, [deltaKey]), [deltaKey], context.revision)).toBe(false);
          expect(context.secrets.get(deltaKey)).toBe('after-restore');
          expect(context.readAt(deltaKey)).toBe(next.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a reply that was merely overtaken (not below what the context held when it asked) still leaves newer reads alone', () => {
    const context = new PluginContext({ name: 'p', secrets: KEYS }, 'store-only', {});
    context.applySnapshot({ secrets: { KEY_A: 'a1' }, missing: ['KEY_B', 'KEY_C', 'KEY_D'], unreadable: [], revision: 2 });
    const askedAt = context.revision;
    context.applyPushed('KEY_A', 'a5', 5);
    // Sent at 2, read at 4, arriving after the push of 5: late, not a log that went back.
    expect(context.applySnapshot({ secrets: { KEY_A: 'a4' }, missing: ['KEY_B', 'KEY_C', 'KEY_D'], unreadable: [], revision: 4 }, askedAt)).toBe(false);
    expect(context.secrets.get('KEY_A')).toBe('a5');
    expect(context.readAt('KEY_A')).toBe(5);
  });
});
