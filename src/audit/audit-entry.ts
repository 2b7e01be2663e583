import type { AuditEntry } from '../contract/api-types';
import type { EventRow } from '../event-store/event';
import { isSecretEventType } from '../event-store/stored-event-types';
import { secretStream } from '../secrets/domain/events';

const SECRET_STREAM_PREFIX = secretStream('');

export function toAuditEntry(row: EventRow): AuditEntry {
  // The key and its version come from the secret's stream; other streams (tokens, resolutions,
  // refusals) have versions of their own that mean nothing to a reviewer.
  const isSecretEvent = row.stream.startsWith(SECRET_STREAM_PREFIX) && isSecretEventType(row.type);
  return {
    seq: row.seq,
    id: row.id,
    type: row.type,
    ...(isSecretEvent ? { key: row.stream.slice(SECRET_STREAM_PREFIX.length), version: row.version } : {}),
    actor: JSON.parse(row.actor),
    at: row.at,
    data: JSON.parse(row.data),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
