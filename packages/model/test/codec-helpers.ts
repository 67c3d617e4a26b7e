/** Shared by the codec tests: fixture loading and a protobufjs view of the OTLP protos. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { Span } from '../src/span.js';

export const FIXTURES = fileURLToPath(new URL('../../../../../shared/fixtures/', import.meta.url));

if (!existsSync(FIXTURES)) throw new Error(`fixtures not found at ${FIXTURES}: tests need /work/shared/fixtures`);

export function fixturePath(rel: string): string {
  const p = FIXTURES + rel;
  if (!existsSync(p)) throw new Error(`fixture missing: ${p}`);
  return p;
}

export function readFixture(rel: string): unknown {
  return JSON.parse(readFileSync(fixturePath(rel), 'utf8')) as unknown;
}

/** Relative paths of the `.json` files of a fixture folder; throws when there are none. */
export function fixtureFiles(dir: string): string[] {
  const files = readdirSync(fixturePath(dir))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => `${dir}/${f}`);
  if (files.length === 0) throw new Error(`no fixtures in ${dir}`);
  return files;
}

let requestType: protobuf.Type | undefined;

/** ExportTraceServiceRequest as protobufjs loads it from the fixture .proto files. */
export function otlpRequestType(): protobuf.Type {
  if (requestType !== undefined) return requestType;
  const root = new protobuf.Root();
  const base = fixturePath('otlp/');
  root.resolvePath = (origin, target) => (target.startsWith('opentelemetry/') ? base + target : protobuf.util.path.resolve(origin, target));
  root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto');
  requestType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  return requestType;
}

/** Deep copy through JSON with Uint8Arrays kept: what a receiver would see after a JSON round trip. */
export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Decoders leave optional fields absent; a span written with `key: undefined` is normalised to that. */
export function withoutUndefined(span: Span): Span {
  const out = { ...span } as Record<string, unknown>;
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out as unknown as Span;
}
