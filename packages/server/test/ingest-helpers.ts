/** Shared by the server's ingest tests: fixtures, a temp data dir, an app listening on a free port. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Span } from '@linktrace/model';
import { openEmbeddedStore, type SpanStore } from '@linktrace/storage';
import { buildApp, type AppOptions } from '../src/app.js';
import { MemoryStore } from './memory-store.js';

export const FIXTURES = fileURLToPath(new URL('../../../../../shared/fixtures/', import.meta.url));
if (!existsSync(FIXTURES)) throw new Error(`fixtures not found at ${FIXTURES}: tests need /work/shared/fixtures`);

export function readFixture(rel: string): Buffer {
  const p = FIXTURES + rel;
  if (!existsSync(p)) throw new Error(`fixture missing: ${p}`);
  return readFileSync(p);
}

/** `.json` files of a fixture folder, as paths relative to the fixtures root; throws when none. */
export function fixtureFiles(dir: string): string[] {
  const files = readdirSync(FIXTURES + dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => `${dir}/${f}`);
  if (files.length === 0) throw new Error(`no fixtures in ${dir}`);
  return files;
}

export async function tempDir(prefix = 'linktrace-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export interface RunningApp {
  app: FastifyInstance;
  store: MemoryStore;
  url: string;
  dataDir: string;
}

/**
 * Runs `fn` against an app with a memory store, listening on 127.0.0.1 on a free port; closes the app
 * and removes the data dir afterwards, also when `fn` throws.
 */
export async function withApp(options: Partial<AppOptions>, fn: (ctx: RunningApp) => Promise<void>): Promise<void> {
  const dataDir = options.dataDir ?? (await tempDir());
  const store = (options.store as MemoryStore | undefined) ?? new MemoryStore();
  let app: FastifyInstance | undefined;
  try {
    app = await buildApp({ ...options, store, dataDir });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    await fn({ app, store, url, dataDir });
  } finally {
    await app?.close();
    if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
  }
}

export interface RunningEmbeddedApp {
  app: FastifyInstance;
  store: SpanStore;
  url: string;
  dataDir: string;
}

/** As withApp, with the real embedded (DuckDB) store in the temp data dir, closed afterwards. */
export async function withEmbeddedApp(options: Partial<AppOptions>, fn: (ctx: RunningEmbeddedApp) => Promise<void>): Promise<void> {
  const dataDir = await tempDir();
  let store: SpanStore | undefined;
  let app: FastifyInstance | undefined;
  try {
    store = await openEmbeddedStore({ dataDir });
    app = await buildApp({ ...options, store, dataDir });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    await fn({ app, store, url, dataDir });
  } finally {
    await app?.close();
    await store?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * What identifies one span in a store: records with the same key merge (the full record winning over
 * start records). Kind and service are part of it because Zipkin's shared client/server halves share
 * a span id; instance and start because a fan-out recorded by each callee shares it too.
 */
export function spanKey(span: Span): string {
  return `${span.traceId}/${span.spanId}/${span.kind}/${span.service}/${span.instance ?? ''}/${span.startUnknown === true ? '?' : span.startUs}`;
}

export interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
  json(): unknown;
}

/** POST with fetch; the whole answer read. */
export async function post(url: string, body: Uint8Array | string, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', body, headers });
  const bytes = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    headers: res.headers,
    body: bytes,
    json: () => JSON.parse(bytes.toString('utf8')) as unknown,
  };
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, { headers });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body: bytes, json: () => JSON.parse(bytes.toString('utf8')) as unknown };
}

/** The fields a read-back must keep: ids, times, names, attributes, events, links, status. */
export function comparable(span: Span): Record<string, unknown> {
  const out: Record<string, unknown> = {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    service: span.service,
    name: span.name,
    kind: span.kind,
    startUs: span.startUs,
    durationUs: span.durationUs,
    status: span.status,
    attributes: span.attributes,
    events: span.events,
    links: span.links,
    shared: span.shared,
  };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

/** The error body of DESIGN §5, checked for shape; returns its code. */
export function errorCode(answer: Answer): string {
  const body = answer.json() as { error?: { code?: unknown; message?: unknown } };
  if (typeof body.error?.code !== 'string' || typeof body.error.message !== 'string' || body.error.message === '') {
    throw new Error(`not an error body: ${answer.body.toString('utf8').slice(0, 300)}`);
  }
  return body.error.code;
}
