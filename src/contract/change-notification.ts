/**
 * SPEC §3 (`GET /api/v1/changes`) and §4 (NATS): the one shape a secret-state change is told in,
 * on every channel, to every client (the service, the SDK, `run`, the console). Types and
 * constants only: the SDK and the console's bundle load this file without loading the service.
 *
 * Value-free: metadata only, never a value, ciphertext, token or hash. Anyone who can read a
 * channel reads every notification on it, so a notification is a hint to resolve over HTTP(S),
 * never a fact to act on. The one exception is `PushedChange`, below: an authorized executor's
 * own values-mode stream.
 */
import type { SecretEventType } from '../event-store/stored-event-types';
import { MAX_KEYS_PER_RESOLVE } from './api-types';

export interface ChangeNotification {
  /** Any secret-state event type of the log's catalogue (its `secret` family). */
  type: SecretEventType;
  key: string;
  /** The key's version (1, 2, … continuing across remove and re-add). */
  version: number;
  /** The store-wide count of secret-state events: contiguous, so a gap means one was missed. */
  revision: number;
  seq: number;
  eventId: string;
  at: string;
}

/**
 * An executor's values-mode change stream (SPEC §3, `?values=true&plugin=…&keys=…`) carries,
 * over its authenticated HTTP(S) connection, the notification plus the key's value at exactly
 * the notification's `version` — or, instead, why it carries none. A removal carries neither.
 */
export interface PushedChange extends ChangeNotification {
  value?: string;
  withheld?: WithheldReason;
}

/**
 * Why a values-mode event carries no value; the client resolves instead.
 * - `catch-up`: sent from the log on (re)connecting, not as it happened;
 * - `superseded`: the key changed again (or was removed) before the value was read: a later event follows;
 * - `expired`: SECRETS_REFUSE_EXPIRED=true and the secret's expiry passed (as resolve's `expired`);
 * - `unreadable`: the stored value would not open (as resolve's `unreadable`).
 */
export const WITHHELD_REASONS = ['catch-up', 'superseded', 'expired', 'unreadable'] as const;
export type WithheldReason = (typeof WITHHELD_REASONS)[number];

/** The change stream's query parameters: `values=true` asks for values, for `plugin`'s `keys`. */
export const VALUES_PARAM = 'values';
export const PLUGIN_PARAM = 'plugin';
export const KEYS_PARAM = 'keys';
/** How many keys one stream may name: as many as one resolve may ask for. */
export const MAX_STREAM_KEYS = MAX_KEYS_PER_RESOLVE;

/** The change stream's wire names (SPEC §3): `event: change` and `event: revoked`. */
export const CHANGES_PATH = 'api/v1/changes';
export const CHANGE_EVENT = 'change';
export const REVOKED_EVENT = 'revoked';
/** What the stream asks a client to wait before reconnecting (`retry:`), in milliseconds. */
export const STREAM_RETRY_MS = 1_000;

/** The shape only: a notification is checked, never believed (anyone may publish on a bus). */
export function isChangeNotification(data: unknown): data is ChangeNotification {
  const n = data as ChangeNotification;
  return typeof n === 'object' && n !== null && typeof n.key === 'string' && Number.isSafeInteger(n.revision) && n.revision >= 0;
}
