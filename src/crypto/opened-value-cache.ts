import type { SecretValue } from './secret-value';

/**
 * Recently opened values, by the id of the event that sealed them, bounded by total size (LRU).
 *
 * Why: a resolve of a 12-key manifest costs 24 AES-GCM operations (unwrap and open per key), a
 * large share of the resolve's CPU (docs/BENCHMARKS.md, Figures behind design choices), and
 * executors resolve the same few versions over and over.
 * An event's value never changes (a new version is a new event), so an entry never goes stale.
 *
 * What it costs: plaintext of hot secrets stays in the heap longer. The master keys that can
 * open every value already live in the same heap, so a heap dump exposes nothing new; the bound
 * keeps the footprint small, and size 0 disables the cache.
 */
export class OpenedValueCache {
  private readonly entries = new Map<string, SecretValue>();
  private bytes = 0;

  constructor(private readonly maxBytes = 8 * 1024 * 1024) {}

  get(eventId: string): SecretValue | undefined {
    const value = this.entries.get(eventId);
    if (value !== undefined) {
      // Map keeps insertion order: re-inserting marks the entry most recently used.
      this.entries.delete(eventId);
      this.entries.set(eventId, value);
    }
    return value;
  }

  set(eventId: string, value: SecretValue): void {
    const size = sizeOf(value);
    if (size > this.maxBytes || this.entries.has(eventId)) return;
    this.entries.set(eventId, value);
    this.bytes += size;
    for (const [oldest, evicted] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= sizeOf(evicted);
    }
  }

  /** Drops an entry whose value was destroyed: its plaintext must not outlive its data key here. */
  forget(eventId: string): void {
    const value = this.entries.get(eventId);
    if (value === undefined) return;
    this.entries.delete(eventId);
    this.bytes -= sizeOf(value);
  }

  get size(): number {
    return this.entries.size;
  }
}

function sizeOf(value: SecretValue): number {
  return Buffer.byteLength(value.reveal(), 'utf8') + 64;
}
