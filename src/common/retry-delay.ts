/**
 * How long a client of another server (NATS, the service's change stream, a checkpoint sink)
 * waits before its next attempt after failing to connect for `downForMs`: about as long again
 * (so the waits double), between 250 ms and 5 s, each one ±20 % so that a fleet refused together
 * does not come back in step. Never "give up": a refusal is often fixed server-side (a config
 * reload), and the process must notice on its own.
 */
export const RETRY_DELAY_MS = { min: 250, max: 5_000 } as const;
const JITTER = 0.2;

export function retryDelay(downForMs: number, random: () => number = Math.random): number {
  const base = Math.min(RETRY_DELAY_MS.max, Math.max(RETRY_DELAY_MS.min, downForMs));
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}
