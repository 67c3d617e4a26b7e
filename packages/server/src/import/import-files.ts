/**
 * The files an import reads: files named on the command line as they are, and inside directories
 * (recursively, in name order) the files whose extension names a trace format. Hidden entries
 * (`.name`) inside directories are skipped.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { formatFromName } from './file-format.js';

export interface ImportFile {
  path: string;
  bytes: number;
}

async function walk(dir: string, out: ImportFile[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = join(dir, e.name);
    if (e.isDirectory()) await walk(full, out);
    else if (e.isFile() && formatFromName(e.name) !== undefined) out.push({ path: full, bytes: (await stat(full)).size });
  }
}

/** Rejects (ENOENT and the like) when a named path cannot be read: nothing is imported then. */
export async function listImportFiles(paths: readonly string[]): Promise<ImportFile[]> {
  const out: ImportFile[] = [];
  for (const p of paths) {
    const s = await stat(p);
    if (s.isDirectory()) await walk(p, out);
    else out.push({ path: p, bytes: s.size });
  }
  return out;
}
