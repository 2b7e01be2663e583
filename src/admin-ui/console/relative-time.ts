import { formatTime, h } from './dom';

const MINUTE_MS = 60_000;

/** How long ago `iso` was, in the largest whole unit: "just now", "3 min ago", "5 h ago", "2 days ago". */
export function timeAgo(iso: string, now: Date): string {
  const elapsed = now.getTime() - new Date(iso).getTime();
  if (Number.isNaN(elapsed)) return iso;
  if (elapsed < MINUTE_MS) return 'just now';
  const minutes = Math.floor(elapsed / MINUTE_MS);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}

/** A past time as "3 min ago", the exact time (UTC, to the second) on hover; `never` when there is none. */
export function ago(iso: string | null, now = new Date()): HTMLElement | string {
  return iso === null ? 'never' : h('time', { datetime: iso, title: formatTime(iso) }, timeAgo(iso, now));
}
