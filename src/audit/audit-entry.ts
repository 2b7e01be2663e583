import type { AuditEntry } from '../contract/api-types';
import type { EventRow } from '../event-store/event';
import { isSecretEventType } from '../event-store/stored-event-types';
import { destroyedStream, secretStream } from '../secrets/domain/events';

const SECRET_STREAM_PREFIX = secretStream('');
const DESTROYED_STREAM_PREFIX = destroyedStream('');

/** The secret a row is about, with its version where the stream's version is the secret's. */
function secretOf(row: EventRow): { key: string; version?: number } | undefined {
  if (row.stream.startsWith(SECRET_STREAM_PREFIX) && isSecretEventType(row.type)) return { key: row.stream.slice(SECRET_STREAM_PREFIX.length), version: row.version };
  // A destroy counts on a stream of its own: the version it destroyed is in its data.
  if (row.stream.startsWith(DESTROYED_STREAM_PREFIX)) return { key: row.stream.slice(DESTROYED_STREAM_PREFIX.length) };
  return undefined;
}

export function toAuditEntry(row: EventRow): AuditEntry {
  // The key and its version come from the secret's stream; other streams (tokens, resolutions,
  // refusals) have versions of their own that mean nothing to a reviewer.
  return {
    seq: row.seq,
    id: row.id,
    type: row.type,
    ...secretOf(row),
    actor: JSON.parse(row.actor),
    at: row.at,
    data: JSON.parse(row.data),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
