import { ACCESS_DENIED } from '../auth/access-denied.recorder';
import { AUTHENTICATION_FAILED, RATE_LIMITED } from '../auth/refusals';
import { TokenEventType } from '../auth/tokens.service';
import { MASTER_KEY_ROTATED } from '../master-keys/master-key-rotation';
import { SECRETS_RESOLVED } from '../resolve/resolve.service';
import { SECRET_UNREADABLE } from '../resolve/unreadable-values';
import { SECRET_EVENT_TYPES } from '../secrets/domain/events';

/**
 * Every event type the log may hold (SPEC §1), for the audit trail's `type` filter: a name
 * outside this list can never match, so it is a mistake to say so rather than an empty page.
 */
export const STORED_EVENT_TYPES: readonly string[] = [
  ...SECRET_EVENT_TYPES,
  SECRETS_RESOLVED,
  ACCESS_DENIED,
  AUTHENTICATION_FAILED,
  RATE_LIMITED,
  ...Object.values(TokenEventType),
  MASTER_KEY_ROTATED,
  SECRET_UNREADABLE,
];
