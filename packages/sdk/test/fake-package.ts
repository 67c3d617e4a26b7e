import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Captures what is written to process.stderr while `fn` runs (instrumentation warnings go there). */
export function captureStderr(fn: () => void): string {
  const chunks: string[] = [];
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = original;
  }
  return chunks.join('');
}

/** A throwaway app directory holding one fake package: a same-named stand-in with a wrong shape. */
export function fakePackage(name: string, version: string, main: string): string {
  const root = mkdtempSync(join(tmpdir(), 'lt-fake-'));
  const dir = join(root, 'node_modules', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version, main: 'index.js' }));
  writeFileSync(join(dir, 'index.js'), main);
  writeFileSync(join(root, 'package.json'), '{"name":"app","version":"0.0.0"}');
  return root;
}
