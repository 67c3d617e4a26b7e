import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Span } from '@linktrace/model';

/** Polls `check` every 10 ms until it returns true; fails after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A name no other test run uses: queues, exchanges, subjects, streams. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Captures what instrumentation warnings write to stderr while `fn` runs. */
export function captureStderr<R>(fn: () => R): { result: R; text: string } {
  const original = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stderr.write;
  try {
    return { result: fn(), text };
  } finally {
    process.stderr.write = original;
    // `text` is read after restoring: the closure above filled it.
  }
}

/** A temp app directory with a fake package of `name` whose files are given (path → source). */
export function fakePackage(name: string, files: Record<string, string>, main = 'index.js'): string {
  const root = mkdtempSync(join(tmpdir(), 'lt-mq-fake-'));
  const dir = join(root, 'node_modules', name);
  for (const [path, source] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, source);
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '0.0.1-fake', main }));
  writeFileSync(join(root, 'package.json'), '{"name":"fake-app","version":"0.0.0"}');
  return root;
}

export function attr(span: Span, key: string): unknown {
  return span.attributes[key];
}
