import type { FieldError } from '../../common/errors';

/** RFC 3339 `date-time` (section 5.6): a full date, a time, and an offset (`Z` or ±hh:mm). */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

export const EXPIRES_AT_RULE = 'must be an RFC 3339 date-time with an offset, such as 2027-01-31T00:00:00Z';

/**
 * The instant an RFC 3339 date-time names, as ISO-8601 UTC text of one fixed width (what the log
 * stores, so text order is time order), or undefined if it is not one. Date.parse alone accepts
 * other spellings and rolls 30 February over into March; the fields are checked first.
 */
export function normalizeExpiresAt(text: string): string | undefined {
  const match = RFC3339.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const [offsetHours, offsetMinutes] = [match[9], match[10]].map((part) => (part === undefined ? 0 : Number(part)));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  // A leap second (:60) has no instant of its own in JavaScript's time: refused rather than moved.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return undefined;
  const instant = Date.parse(text.toUpperCase().replace(' ', 'T'));
  if (Number.isNaN(instant)) return undefined;
  const normalized = new Date(instant);
  // Years 0000-9999 only: toISOString spells others with six digits and a sign.
  return normalized.getUTCFullYear() >= 0 && normalized.getUTCFullYear() <= 9999 ? normalized.toISOString() : undefined;
}

/** `expiresAt` as a command gives it: a date-time, or null (an update clearing it). */
export function expiresAtErrors(expiresAt: string | null | undefined): FieldError[] {
  if (expiresAt === undefined || expiresAt === null) return [];
  return normalizeExpiresAt(expiresAt) === undefined ? [{ field: 'expiresAt', message: EXPIRES_AT_RULE }] : [];
}

/** Whether a secret with this expiry has expired at `now`: from its expiry instant on. */
export function hasExpired(expiresAt: string | undefined, now: Date): boolean {
  return expiresAt !== undefined && expiresAt <= now.toISOString();
}

export type ExpiryStatus = 'expired' | 'expiring';

/** Expired, expiring within `warningDays`, or neither (undefined), at `now`. */
export function expiryStatus(expiresAt: string | undefined, now: Date, warningDays: number): ExpiryStatus | undefined {
  if (expiresAt === undefined) return undefined;
  if (hasExpired(expiresAt, now)) return 'expired';
  return expiresAt < warningHorizon(now, warningDays) ? 'expiring' : undefined;
}

/** The instant up to which an expiry counts as soon. */
export function warningHorizon(now: Date, warningDays: number): string {
  return new Date(now.getTime() + warningDays * 86_400_000).toISOString();
}
