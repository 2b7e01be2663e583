import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = join(__dirname, '../..');
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** Markdown link targets, `[text](target)`, outside code spans and fenced blocks. */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]);
}

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces as hyphens. */
function headingAnchors(markdown: string): Set<string> {
  const headings = markdown.replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,6} (.+)$/gm);
  return new Set(
    [...headings].map((match) =>
      match[1]
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    ),
  );
}

/** What is wrong with a link from `doc`, or undefined: outside the repository, a missing file, a missing heading. */
function brokenLink(doc: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return 'leaves the repository';
  const [path, anchor] = target.split('#');
  const file = path === '' ? join(ROOT, doc) : resolve(ROOT, dirname(doc), path);
  if (relative(ROOT, file).startsWith('..')) return 'leaves the repository';
  if (!existsSync(file)) return 'no such file';
  if (anchor !== undefined && file.endsWith('.md') && !headingAnchors(readFileSync(file, 'utf8')).has(anchor)) return 'no such heading';
  return undefined;
}

describe('documentation links stay inside the repository and land', () => {
  it.each(DOCS)('%s links only to files and headings of the repository that exist', (doc) => {
    const targets = linkTargets(readFileSync(join(ROOT, doc), 'utf8'));
    const bad = targets.map((target) => [target, brokenLink(doc, target)]).filter(([, problem]) => problem !== undefined);
    expect(bad).toEqual([]);
  });

  it("README.md stays a stranger's first five minutes: at most 250 lines, the rest in docs/", () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length).toBeLessThanOrEqual(250);
  });

  it('the check sees an outside link, a missing file and a missing heading (control)', () => {
    expect(linkTargets('see [the spec](../shared/SPEC.md) and [x](https://example.com) but not `[y](z)`')).toEqual(['../shared/SPEC.md', 'https://example.com']);
    expect(brokenLink('README.md', '../shared/SPEC.md')).toBe('leaves the repository');
    expect(brokenLink('README.md', 'https://example.com')).toBe('leaves the repository');
    expect(brokenLink('README.md', 'docs/NOWHERE.md')).toBe('no such file');
    expect(brokenLink('README.md', 'docs/OPERATING.md#no-such-heading')).toBe('no such heading');
    expect(brokenLink('README.md', '#no-such-heading')).toBe('no such heading');
    expect(brokenLink('README.md', 'docs/OPERATING.md#health-readiness-and-metrics')).toBeUndefined();
    expect(brokenLink('docs/CLI.md', '#importing-a-env-file')).toBeUndefined();
  });
});
