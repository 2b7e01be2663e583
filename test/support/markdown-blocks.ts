import { readFileSync } from 'node:fs';

/**
 * The fenced block that follows `<!-- marker… -->` in a Markdown file: docs mark the blocks a
 * test runs as printed, so a doc and its test cannot drift apart.
 */
export function markedBlock(file: string, marker: string): { language: string; code: string } {
  const markdown = readFileSync(file, 'utf8');
  const match = new RegExp(`<!-- ${marker}\\b[^>]*-->\\s*\\n\`\`\`(\\w*)\\n([\\s\\S]*?)\\n\`\`\``).exec(markdown);
  if (!match) throw new Error(`no fenced block after <!-- ${marker} … --> in ${file}`);
  return { language: match[1], code: `${match[2]}\n` };
}
