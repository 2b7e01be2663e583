import { missingKeys } from '../../src/admin-ui/console/missing-keys';
import { timeAgo } from '../../src/admin-ui/console/relative-time';

const resolve = (seq: number, plugin: string, missing: string[], read: string[] = []) => ({
  seq,
  at: `2026-12-07T10:00:${String(seq).padStart(2, '0')}.000Z`,
  data: { plugin, keys: read.map((key) => ({ key, version: 1 })), missing, revision: seq },
});

describe('missing keys, gathered from SecretsResolved entries', () => {
  it('counts per key the resolves that found it missing, with their plugins and the last time, most recently missing first', () => {
    // Newest first, as the console reads them.
    const found = missingKeys([resolve(5, '@acme/b', ['A_KEY']), resolve(3, '@acme/a', ['B_KEY', 'A_KEY']), resolve(2, '@acme/a', ['A_KEY'])]);
    expect(found).toEqual([
      { key: 'A_KEY', plugins: ['@acme/a', '@acme/b'], resolves: 3, lastMissingAt: '2026-12-07T10:00:05.000Z', resolvedSinceAt: null },
      { key: 'B_KEY', plugins: ['@acme/a'], resolves: 1, lastMissingAt: '2026-12-07T10:00:03.000Z', resolvedSinceAt: null },
    ]);
  });

  it('says when a later resolve read the key, and forgets that once it goes missing again', () => {
    expect(missingKeys([resolve(1, 'p', ['A_KEY']), resolve(4, 'p', [], ['A_KEY']), resolve(6, 'p', [], ['A_KEY'])])[0].resolvedSinceAt).toBe('2026-12-07T10:00:06.000Z');
    expect(missingKeys([resolve(1, 'p', ['A_KEY']), resolve(4, 'p', [], ['A_KEY']), resolve(6, 'p', ['A_KEY'])])[0].resolvedSinceAt).toBeNull();
    // A read before it went missing is not "since".
    expect(missingKeys([resolve(1, 'p', [], ['A_KEY']), resolve(2, 'p', ['A_KEY'])])[0].resolvedSinceAt).toBeNull();
  });

  it('is empty when nothing was missing, and ignores data it does not understand', () => {
    expect(missingKeys([resolve(1, 'p', [], ['A_KEY'])])).toEqual([]);
    expect(missingKeys([{ seq: 1, at: '2026-12-07T10:00:00.000Z', data: { missing: 'A_KEY', keys: 7 } }])).toEqual([]);
  });
});

describe('last use, as the console shows it', () => {
  const now = new Date('2026-12-07T10:00:00.000Z');

  it('reads as a relative time: just now, minutes, hours, then days', () => {
    expect(timeAgo('2026-12-07T09:59:30.000Z', now)).toBe('just now');
    expect(timeAgo('2026-12-07T09:57:00.000Z', now)).toBe('3 min ago');
    expect(timeAgo('2026-12-07T05:00:00.000Z', now)).toBe('5 h ago');
    expect(timeAgo('2026-12-05T09:00:00.000Z', now)).toBe('2 days ago');
  });
});
