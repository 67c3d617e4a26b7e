/**
 * The fenced code blocks of the docs that are meant to run. A block is marked by an HTML comment
 * (invisible on GitHub) on the line right before its opening fence:
 *
 *     <!-- doc-test: flows -->
 *     ```yaml
 *
 * so a test can take every block of one kind and run it against the real code.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from examples/shop-sync/dist/test/. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export interface DocBlock {
  /** Where the block is, for messages: `docs/chain-checks.md:110`. */
  where: string;
  /** The fence's language: `yaml`, `json`, … */
  language: string;
  text: string;
}

const MARKER = /^<!--\s*doc-test:\s*([\w-]+)\s*-->\s*$/;
const FENCE = /^(`{3,})\s*([\w-]*)/;

/** Every block marked `<!-- doc-test: <kind> -->` in README.md and docs/*.md. */
export function docBlocks(kind: string): DocBlock[] {
  const files = ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
  const blocks: DocBlock[] = [];
  for (const file of files) {
    const lines = readFileSync(join(REPO_ROOT, file), 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i++) {
      const marker = MARKER.exec(lines[i]!);
      if (marker === null || marker[1] !== kind) continue;
      const fence = FENCE.exec(lines[i + 1]!);
      if (fence === null) throw new Error(`${file}:${i + 1}: a doc-test marker must sit right before a code fence`);
      const close = lines.findIndex((l, j) => j > i + 1 && l.startsWith(fence[1]!));
      if (close === -1) throw new Error(`${file}:${i + 2}: the code block is never closed`);
      blocks.push({ where: `${relative(REPO_ROOT, join(REPO_ROOT, file))}:${i + 2}`, language: fence[2]!, text: lines.slice(i + 2, close).join('\n') });
    }
  }
  return blocks;
}
