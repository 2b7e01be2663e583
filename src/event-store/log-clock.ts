export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * The time to stamp the next event with. Time in the log never goes backwards: a clock stepped
 * back (NTP) must not stamp an event earlier than the one before it, so that time order and seq
 * order agree (the audit API turns time filters into seq ranges on that promise).
 */
export function nextStamp(clock: Clock, headAt: string | undefined): string {
  const now = clock.now().toISOString();
  return headAt !== undefined && headAt > now ? headAt : now;
}
