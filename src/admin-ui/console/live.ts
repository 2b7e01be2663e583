import type { Api, AuditHead } from './api';

const POLL_MS = 2_000;

/**
 * Changes made elsewhere, without a reload: the log's head seq moves with every event, so a
 * cheap `GET /audit/head` every couple of seconds says when the view should fetch again.
 * (`EventSource` cannot send the Authorization header; polling needs no new route.)
 */
export function watchHead(api: Api, moved: () => Promise<void>): () => void {
  let seen: number | undefined;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async () => {
    try {
      const head = await api.call<AuditHead>('GET', '/audit/head');
      if (seen !== undefined && head.seq !== seen && !stopped) await moved();
      seen = head.seq;
    } catch {
      // A failed poll is retried on the next tick; a revoked token ends the session (Api).
    }
    if (!stopped) timer = setTimeout(() => void tick(), POLL_MS);
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
