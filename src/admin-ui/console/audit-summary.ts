import { StoredEventType } from '../../event-store/stored-event-types';
import type { AuditEntry } from './api';

type Data = Record<string, unknown>;

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);
const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
/** At most five names, then how many more: a summary stays one line however long the list. */
const names = (items: string[]) => (items.length <= 5 ? items.join(', ') : `${items.slice(0, 5).join(', ')} and ${items.length - 5} more`);
const suppressed = (data: Data) => (typeof data.suppressed === 'number' && data.suppressed > 0 ? ` (${data.suppressed} more not recorded one by one)` : '');

/**
 * One line in words for an audit entry: what happened, to what. The raw data stays one click
 * away; this is what a reviewer scans for. An event type this console does not know reads as its
 * name, never as nothing.
 */
export function summarize(entry: Pick<AuditEntry, 'type' | 'key' | 'version' | 'data'>): string {
  const data = (entry.data ?? {}) as Data;
  const key = entry.key ?? (typeof data.key === 'string' ? data.key : '');
  switch (entry.type) {
    case StoredEventType.SecretAdded:
      return `added ${key} (version ${entry.version ?? 1})`;
    case StoredEventType.SecretUpdated: {
      const changes = [data.valueChanged === true ? 'new value' : data.valueChanged === false ? 'value unchanged' : null, typeof data.description === 'string' ? `description “${data.description}”` : null];
      return `updated ${key} to version ${entry.version ?? '?'}: ${changes.filter(Boolean).join(', ') || 'no change recorded'}`;
    }
    case StoredEventType.SecretRemoved:
      return `removed ${key}`;
    case StoredEventType.SecretRolledBack:
      return `rolled ${key} back to version ${String(data.toVersion ?? '?')}'s value, as version ${entry.version ?? '?'}`;
    case StoredEventType.SecretVersionDestroyed:
      return `destroyed the value of ${key} version ${String(data.version ?? '?')}`;
    case StoredEventType.AuditCheckpoint:
      return `signed a checkpoint of the log at seq ${String(data.seq)} (key ${String(data.keyId)})`;
    case StoredEventType.SecretsResolved: {
      const read = list(data.keys);
      const missing = list(data.missing);
      const unreadable = list(data.unreadable);
      const asked = read.length + missing.length + unreadable.length;
      return [
        `resolved ${count(asked, 'key')} for ${String(data.plugin ?? 'an unnamed plugin')}`,
        typeof data.deliveries === 'number' && data.deliveries > 1 ? `${data.deliveries} times` : null,
        missing.length > 0 ? `${missing.length} missing: ${names(missing)}` : null,
        unreadable.length > 0 ? `${unreadable.length} unreadable: ${names(unreadable)}` : null,
      ]
        .filter(Boolean)
        .join(', ');
    }
    case StoredEventType.AccessDenied:
      return `refused ${String(data.action ?? 'a request')}${list(data.keys).length > 0 ? ` for ${names(list(data.keys))}` : ''}${suppressed(data)}`;
    case StoredEventType.AuthenticationFailed:
      return `failed to authenticate from ${String(data.clientAddress ?? 'an unknown address')}${suppressed(data)}`;
    case StoredEventType.RateLimited:
      return `rate limited${suppressed(data)}`;
    case StoredEventType.TokenIssued:
      return `issued ${String(data.role ?? '')} token ${String(data.name ?? '')} (${String(data.id ?? '')})${list(data.plugins).length > 0 ? ` for ${names(list(data.plugins))}` : ''}`;
    case StoredEventType.TokenRevoked:
      return `revoked token ${String(data.id ?? '')}`;
    case StoredEventType.MasterKeyRotated:
      return `rotated the master key from ${String(data.from ?? '?')} to ${String(data.to ?? '?')}, ${count(Number(data.rewrapped ?? 0), 'value')} rewrapped`;
    case StoredEventType.SecretUnreadable:
      return `could not open ${key} version ${String(data.version ?? '?')}: ${String(data.reason ?? 'no reason given')}`;
    case StoredEventType.TokenRowRejected:
      return `rejected the stored row of token ${String(data.id ?? '')}: ${list(data.reasons).join('; ') || 'it disagrees with the log'}`;
    default:
      return entry.type;
  }
}
