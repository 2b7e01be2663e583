import { Presets, SingleBar } from 'cli-progress';

/**
 * Progress for long CLI runs: a bar on a terminal, nothing on a pipe (so output stays clean for
 * scripts) beyond the final summary the command prints itself.
 */
export function progressReporter(label: string, total: number): { update: (done: number) => void; stop: () => void } {
  if (!process.stderr.isTTY || total === 0) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({ format: `${label} [{bar}] {percentage}% | {value}/{total} | eta {eta}s`, stream: process.stderr }, Presets.shades_classic);
  bar.start(total, 0);
  return { update: (done) => bar.update(done), stop: () => bar.stop() };
}
