// Shared by the pg, mysql2 and ioredis instrumentation tests (real servers on this machine).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Span } from '@linktrace/model';
import { CollectingSpanProcessor, createTracing, type Tracing } from '../src/index.js';

export const SDK_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SDK_DIST_URL = pathToFileURL(join(SDK_DIR, 'dist', 'src')).href;

export function collectingTracing(service: string): { tracing: Tracing; collector: CollectingSpanProcessor } {
  const collector = new CollectingSpanProcessor();
  return { tracing: createTracing({ service, processors: [collector] }), collector };
}

/** A unique suffix for tables and keys, so parallel test files never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** A port nothing listens on (bound then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Ended spans of one instrumentation scope. */
export function spansOf(spans: readonly Span[], scope: string): Span[] {
  return spans.filter((s) => s.scope?.name === `@linktrace/sdk/instrumentations/${scope}`);
}

/** Runs `fn` with stderr captured; returns what was written. */
export async function captureStderr(fn: () => unknown): Promise<string> {
  const original = process.stderr.write.bind(process.stderr);
  let written = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stderr.write;
  try {
    await fn();
  } finally {
    process.stderr.write = original;
  }
  return written;
}

/** A throwaway app dir whose node_modules holds a fake package with the given main file text. */
export function fakePackage(name: string, version: string, main: string, extraFiles: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'lt-db-instr-'));
  const dir = join(root, 'node_modules', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version, main: 'index.js' }));
  writeFileSync(join(dir, 'index.js'), main);
  for (const [file, text] of Object.entries(extraFiles)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  writeFileSync(join(root, 'package.json'), '{"name":"app","version":"0.0.0"}');
  return root;
}

/**
 * Runs an ES module script in a child process from the SDK's folder (so `import 'pg'` resolves as
 * it does for an application); `SDK` in the script is the dist URL of the SDK's sources.
 * Resolves with the last stdout line parsed as JSON.
 */
export function runEsmChild(script: string): Promise<unknown> {
  const code = script.replaceAll('SDK/', `${SDK_DIST_URL}/`);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', code], { cwd: SDK_DIR, timeout: 15_000 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`child failed: ${error.message}\n${stderr}`));
        return;
      }
      const lines = stdout.trim().split('\n');
      try {
        resolve(JSON.parse(lines[lines.length - 1]!));
      } catch {
        reject(new Error(`child printed no JSON: ${stdout}\n${stderr}`));
      }
    });
  });
}
