import { OpenedValueCache } from '../../src/crypto/opened-value-cache';
import { SecretValue } from '../../src/crypto/secret-value';

describe('OpenedValueCache', () => {
  const value = (bytes: number) => new SecretValue('x'.repeat(bytes));

  it('returns what was stored, by event id', () => {
    const cache = new OpenedValueCache(10_000);
    const stored = value(10);
    cache.set('evt-1', stored);
    expect(cache.get('evt-1')).toBe(stored);
    expect(cache.get('evt-2')).toBeUndefined();
  });

  it('stays within its byte bound, evicting the least recently used first', () => {
    // Each entry counts its bytes plus 64 of overhead: three of 236 bytes fill 900.
    const cache = new OpenedValueCache(900);
    cache.set('a', value(236));
    cache.set('b', value(236));
    cache.set('c', value(236));
    cache.get('a'); // a is now the most recently used; b the least
    cache.set('d', value(236));
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('d')).toBeDefined();
  });

  it('keeps nothing when its bound is 0, or for a value larger than the bound', () => {
    const off = new OpenedValueCache(0);
    off.set('a', value(1));
    expect(off.get('a')).toBeUndefined();
    const small = new OpenedValueCache(100);
    small.set('big', value(1_000));
    expect(small.size).toBe(0);
  });
});
