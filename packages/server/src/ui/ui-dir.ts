/**
 * Where the built web UI (packages/web, Vite output in `dist/ui`) is: next to the `@linktrace/web`
 * package when Node can resolve it, else at the path it has in this repository relative to the
 * server package. `--ui <dir>` overrides both.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function locateUiDir(): string {
  try {
    const pkg = createRequire(import.meta.url).resolve('@linktrace/web/package.json');
    return join(dirname(pkg), 'dist', 'ui');
  } catch {
    // Not installed, or its exports leave package.json out: the repository layout then.
  }
  // This file is packages/server/dist/src/ui/ui-dir.js once built.
  return fileURLToPath(new URL('../../../../web/dist/ui', import.meta.url));
}
