import type { AccessDeniedRecorder } from '../../src/auth/access-denied.recorder';
import { AuthenticationFailures, RateLimitRefusals, REFUSAL_FLUSH_INTERVAL_MS, RefusalCountsFlusher } from '../../src/auth/refusals';

/** A burst that never comes back must still reach the trail: counts are flushed on a timer and at shutdown. */
describe('RefusalCountsFlusher', () => {
  afterEach(() => jest.useRealTimers());

  const recorders = () => {
    const flushed: string[] = [];
    const recorder = (name: string) => ({ flush: async () => void flushed.push(name) });
    const flusher = new RefusalCountsFlusher(
      recorder('denied') as unknown as AccessDeniedRecorder,
      recorder('failures') as unknown as AuthenticationFailures,
      recorder('limited') as unknown as RateLimitRefusals,
    );
    return { flusher, flushed };
  };

  it('flushes every recorder once a window, with no request needed', async () => {
    jest.useFakeTimers();
    const { flusher, flushed } = recorders();
    flusher.onApplicationBootstrap();
    expect(flushed).toEqual([]);
    await jest.advanceTimersByTimeAsync(REFUSAL_FLUSH_INTERVAL_MS);
    expect(flushed).toEqual(['denied', 'failures', 'limited']);
    await jest.advanceTimersByTimeAsync(REFUSAL_FLUSH_INTERVAL_MS);
    expect(flushed).toHaveLength(6);
    await flusher.beforeApplicationShutdown();
  });

  it('flushes at shutdown and stops the timer', async () => {
    jest.useFakeTimers();
    const { flusher, flushed } = recorders();
    flusher.onApplicationBootstrap();
    await flusher.beforeApplicationShutdown();
    expect(flushed).toEqual(['denied', 'failures', 'limited']);
    await jest.advanceTimersByTimeAsync(3 * REFUSAL_FLUSH_INTERVAL_MS);
    expect(flushed).toHaveLength(3);
  });
});
