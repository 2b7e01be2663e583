import type { SecretMeta } from './api';
import { formatTime, h } from './dom';

/**
 * A secret's expiry beside its key: "Expired" and "Expires soon" (the service's warning window)
 * stand out in words, not only in colour; a later expiry is a quiet note. Nothing for a secret
 * that never expires.
 */
export function expiryMark(secret: SecretMeta): HTMLElement | null {
  if (secret.expiresAt === undefined) return null;
  const when = formatTime(secret.expiresAt);
  if (secret.expiry === 'expired') return h('span', { class: 'expiry expired', title: `Expired at ${when}` }, `Expired ${when}`);
  if (secret.expiry === 'expiring') return h('span', { class: 'expiry expiring', title: `Expires at ${when}` }, `Expires soon: ${when}`);
  return h('span', { class: 'expiry muted' }, `Expires ${when}`);
}
