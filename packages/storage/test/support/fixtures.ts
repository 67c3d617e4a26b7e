/** Reads the shared fixtures (`/work/shared/fixtures`, next to the repo); fails loudly when absent. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// From packages/storage/dist/test/support/ up to the repo's parent directory.
const FIXTURES = new URL('../../../../../../shared/fixtures/', import.meta.url);

export function fixturePath(relative: string): string {
  const path = fileURLToPath(new URL(relative, FIXTURES));
  if (!existsSync(path)) throw new Error(`fixture missing: ${path} (the shared fixtures must sit next to the repository)`);
  return path;
}

export function readFixtureJson(relative: string): unknown {
  return JSON.parse(readFileSync(fixturePath(relative), 'utf8'));
}
