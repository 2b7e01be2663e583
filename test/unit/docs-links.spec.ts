import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = join(__dirname, '../..');
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** Markdown link targets, `[text](target)`, outside code spans and fenced blocks. */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]);
}

describe('documentation links stay inside the repository', () => {
  it.each(DOCS)('%s links only to files of the repository that exist', (doc) => {
    const targets = linkTargets(readFileSync(join(ROOT, doc), 'utf8'));
    const bad = targets.filter((target) => {
      if (target.startsWith('#')) return false;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return true;
      const file = resolve(ROOT, dirname(doc), target.split('#')[0]);
      return relative(ROOT, file).startsWith('..') || !existsSync(file);
    });
    expect(bad).toEqual([]);
  });

  it('the check sees an outside link (control)', () => {
    expect(linkTargets('see [the spec](../shared/SPEC.md) and [x](https://example.com) but not `[y](z)`')).toEqual(['../shared/SPEC.md', 'https://example.com']);
  });
});
