/** Shared by the query and CLI tests: fixtures, a real embedded store in a temp directory, an app. */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { decodeZipkinJson, type Span, type ZipkinSpan } from '@linktrace/model';
import { openEmbeddedStore, type EmbeddedStore } from '@linktrace/storage';

export const FIXTURES = fileURLToPath(new URL('../../../../../shared/fixtures/', import.meta.url));
if (!existsSync(join(FIXTURES, 'zipkin'))) throw new Error(`fixtures not found at ${FIXTURES}`);

export function zipkinFixtureNames(): string[] {
  // The zipkin2-*.json files are single span objects (codec benchmarks), the others span arrays.
  return readdirSync(join(FIXTURES, 'zipkin')).filter((f) => f.endsWith('.json'));
}

export function readZipkinFixture(name: string): ZipkinSpan[] {
  const v = JSON.parse(readFileSync(join(FIXTURES, 'zipkin', name), 'utf8')) as ZipkinSpan | ZipkinSpan[];
  return Array.isArray(v) ? v : [v];
}

export function decodeFixture(name: string): Span[] {
  const r = decodeZipkinJson(readZipkinFixture(name));
  if (r.rejected > 0) throw new Error(`fixture ${name}: ${r.errors.join('; ')}`);
  return r.spans;
}

export interface TempStore {
  store: EmbeddedStore;
  dir: string;
  cleanup(): Promise<void>;
}

export function tempDir(prefix = 'lt-query-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function tempStore(): Promise<TempStore> {
  const dir = tempDir();
  const store = await openEmbeddedStore({ dataDir: dir });
  return {
    store,
    dir,
    async cleanup() {
      await store.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A bare fastify instance with the given routes (no ingest side). */
export async function appWith(register: (app: FastifyInstance) => void): Promise<FastifyInstance> {
  const app = Fastify();
  register(app);
  await app.ready();
  return app;
}

/** GET and parse; asserts nothing. */
export async function getJson(app: FastifyInstance, url: string): Promise<{ status: number; body: unknown }> {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.body === '' ? undefined : (JSON.parse(res.body) as unknown) };
}

/** A collecting output stream for CLI tests. */
export class Capture {
  text = '';
  constructor(
    readonly isTTY = false,
    readonly columns?: number,
  ) {}
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}
