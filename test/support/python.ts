import { spawnSync } from 'node:child_process';

/**
 * The first python3 (3.9 or later) that imports `modules`: the one on PATH, else Debian's own (a
 * version manager's shim can come first on PATH without them). Otherwise an error naming the
 * Debian packages that provide them.
 */
export function python3With(modules: string[], debianPackages: string[]): string {
  const probe = `import sys${modules.map((name) => `, ${name}`).join('')}; assert sys.version_info >= (3, 9)`;
  const found = ['python3', '/usr/bin/python3'].find((python) => spawnSync(python, ['-c', probe]).status === 0);
  if (!found) throw new Error(`this test needs python3 (3.9 or later) with ${modules.join(', ')}: apt-get install ${['python3', ...debianPackages].join(' ')}`);
  return found;
}
