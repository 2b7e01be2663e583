/**
 * SPEC §4, the NATS side of the contract, shared by the service and the SDK. Type imports only:
 * the SDK loads this file without loading the service.
 *
 * NATS carries value-free change notifications only. Values and tokens travel over HTTP(S)
 * alone (`POST /api/v1/resolve`): anyone who may subscribe to a subject reads every message on
 * it, and anyone who may publish can answer a request, so a bus is no place for either.
 */

/** What `<prefix>.changed.<KEY>` carries: the one notification shape (src/contract). */
export type { ChangeNotification } from '../contract/change-notification';

/** `<prefix>.changed.<KEY>`: the prefix (SECRETS_NATS_PREFIX) keeps ledgers on one server apart. */
export function changedSubject(prefix: string, key: string): string {
  return `${prefix}.changed.${key}`;
}

/** Every change of one ledger. */
export function allChangesSubject(prefix: string): string {
  return `${prefix}.changed.>`;
}
