/**
 * Retries `assertion` until it passes or `timeoutMs` runs out, then rethrows its last failure.
 * For asynchronous effects (a notification arriving, a context refreshing): no fixed sleeps.
 */
export async function expectEventually<T>(assertion: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
