import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '../..');
/** Jest looks for tests under these (jest.config.js `roots`). */
const ROOTS = ['test', 'src'];

/** A test's suffix names the folder it lives in, so `npx jest test/e2e` runs every e2e test. */
const FOLDER_OF_SUFFIX: [suffix: string, folder: string][] = [
  ['.e2e-spec.ts', 'test/e2e/'],
  ['.browser-spec.ts', 'test/browser/'],
];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules') return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? files(path) : [relative(ROOT, path).split('\\').join('/')];
  });
}

function misplaced(paths: readonly string[]): string[] {
  return paths.filter((path) => FOLDER_OF_SUFFIX.some(([suffix, folder]) => path.endsWith(suffix) && !path.startsWith(folder)));
}

describe('test files live in the folder their name says', () => {
  it('every *.e2e-spec.ts is under test/e2e/ and every *.browser-spec.ts under test/browser/', () => {
    const tests = ROOTS.flatMap((root) => files(join(ROOT, root)));
    expect(tests.filter((path) => path.startsWith('test/e2e/')).length).toBeGreaterThan(0);
    expect(misplaced(tests)).toEqual([]);
  });

  it('the check sees a misplaced test (control)', () => {
    expect(
      misplaced(['test/e2e/a.e2e-spec.ts', 'test/integration/b.e2e-spec.ts', 'test/browser/c.browser-spec.ts', 'test/e2e/d.browser-spec.ts', 'src/e.e2e-spec.ts', 'test/integration/f.spec.ts']),
    ).toEqual(['test/integration/b.e2e-spec.ts', 'test/e2e/d.browser-spec.ts', 'src/e.e2e-spec.ts']);
  });
});
