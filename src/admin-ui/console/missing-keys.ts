import type { AuditEntry } from './api';

/** A key that resolves asked for and the service did not have, gathered from `SecretsResolved` entries. */
export interface MissingKey {
  key: string;
  /** The plugins whose resolves found it missing, sorted. */
  plugins: string[];
  /** How many resolves found it missing. */
  resolves: number;
  lastMissingAt: string;
  /** The latest resolve after that which read a value for it (it was added meanwhile); null: none. */
  resolvedSinceAt: string | null;
}

type Resolve = Pick<AuditEntry, 'seq' | 'at' | 'data'>;

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);
const readKeys = (value: unknown): string[] => (Array.isArray(value) ? value.map((read) => (read as { key?: unknown })?.key).filter((key): key is string => typeof key === 'string') : []);

/**
 * Per key, what a set of `SecretsResolved` entries (in any order) says: which plugins found it
 * missing, how often, when last, and whether a later resolve read it. Most recently missing first.
 */
export function missingKeys(resolves: readonly Resolve[]): MissingKey[] {
  const found = new Map<string, MissingKey & { lastMissingSeq: number; resolvedSinceSeq: number }>();
  const ordered = [...resolves].sort((a, b) => a.seq - b.seq);
  for (const { seq, at, data } of ordered) {
    const fields = (data ?? {}) as Record<string, unknown>;
    const plugin = typeof fields.plugin === 'string' ? fields.plugin : '(no plugin named)';
    for (const key of strings(fields.missing)) {
      const entry = found.get(key) ?? { key, plugins: [], resolves: 0, lastMissingAt: at, lastMissingSeq: seq, resolvedSinceAt: null, resolvedSinceSeq: 0 };
      if (!entry.plugins.includes(plugin)) entry.plugins.push(plugin);
      entry.resolves += 1;
      entry.lastMissingAt = at;
      entry.lastMissingSeq = seq;
      entry.resolvedSinceAt = null;
      found.set(key, entry);
    }
    for (const key of readKeys(fields.keys)) {
      const entry = found.get(key);
      if (entry && seq > entry.lastMissingSeq) entry.resolvedSinceAt = at;
    }
  }
  return [...found.values()]
    .sort((a, b) => b.lastMissingSeq - a.lastMissingSeq)
    .map(({ key, plugins, resolves, lastMissingAt, resolvedSinceAt }) => ({ key, plugins: plugins.sort(), resolves, lastMissingAt, resolvedSinceAt }));
}
