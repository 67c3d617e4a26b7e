/** Bytes of the files under a directory, by file (relative path), for the bytes-per-span figure. */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface DiskUsage {
  total: number;
  files: [string, number][];
}

export function diskUsage(dir: string): DiskUsage {
  const files: [string, number][] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) files.push([relative(dir, full), statSync(full).size]);
    }
  };
  walk(dir);
  files.sort((a, b) => b[1] - a[1]);
  return { total: files.reduce((n, [, size]) => n + size, 0), files };
}
