/**
 * `npx secrets-ledger serve` (and any npm script that does not `exec`) runs the service under a
 * shell npm starts, `sh -c 'secrets-ledger' serve`. npm passes a SIGTERM on to that shell, and
 * Debian's shell neither execs its command nor passes the signal on: it dies, and the service
 * goes on reparented, holding its port and its data dir's lock, so the next start refuses.
 * npm sets `npm_lifecycle_event` for everything it runs; started that way, the service takes
 * the end of the process that started it as its own signal to stop.
 */
export function stopWithNpmParent(stop: () => void, env: NodeJS.ProcessEnv = process.env, intervalMs = 200): void {
  if (env.npm_lifecycle_event === undefined) return;
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    stop();
  }, intervalMs);
  watch.unref();
}
