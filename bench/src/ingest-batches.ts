/**
 * Request bodies for the ingest benchmark, made before the clock starts so that encoding is not
 * counted as ingest: generated traces cut into OTLP export requests of 1000–5000 spans (the way a
 * collector's batch processor cuts a stream, so a trace may straddle two requests), each encoded
 * as protobuf, gzip-compressed protobuf or JSON. Also samples what the query phase looks up:
 * trace ids, operations and attribute values that were really sent.
 */
import { gzipSync } from 'node:zlib';
import { encodeOtlpJson, encodeOtlpProto, type Span } from '@linktrace/model';
import { Random } from './ingest-random.js';
import { TraceGenerator } from './ingest-traces.js';

export type BodyFormat = 'protobuf' | 'protobuf+gzip' | 'json';

export interface RequestBody {
  body: Uint8Array;
  format: BodyFormat;
  spans: number;
}

export interface BatchPlan {
  /** Spans to make (whole traces: the last one may go a few over). */
  spans: number;
  seed: number;
  startUs: number;
  traceGapUs: number;
  minBatch: number;
  maxBatch: number;
  /** Share of requests sent as OTLP JSON, and as gzip-compressed protobuf; the rest is plain protobuf. */
  jsonShare: number;
  gzipShare: number;
  /** A body larger than this (the server's request limit) is split in two. */
  maxBodyBytes: number;
  /** How many of each query input to keep. */
  samples: number;
}

export interface QuerySamples {
  traceIds: string[];
  /** `[service, operation]` of server and consumer spans, each pair once. */
  operations: [string, string][];
  entityKeys: string[];
  userIds: string[];
}

export interface BatchSet {
  bodies: RequestBody[];
  spans: number;
  traces: number;
  bodyBytes: number;
  samples: QuerySamples;
}

/** Keeps a uniform sample of at most `size` items of a stream (reservoir sampling). */
class Reservoir {
  readonly items: string[] = [];
  private seen = 0;
  constructor(
    private readonly size: number,
    private readonly r: Random,
  ) {}
  offer(item: string): void {
    this.seen++;
    if (this.items.length < this.size) this.items.push(item);
    else {
      const j = Math.floor(this.r.next() * this.seen);
      if (j < this.size) this.items[j] = item;
    }
  }
}

/** The bytes as their own exactly-sized buffer (an encoder's output may be a view of a larger one). */
function own(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

function encode(spans: readonly Span[], format: BodyFormat, maxBytes: number, out: RequestBody[]): void {
  let body: Uint8Array;
  if (format === 'json') body = Buffer.from(JSON.stringify(encodeOtlpJson(spans)), 'utf8');
  else {
    body = encodeOtlpProto(spans);
    if (format === 'protobuf+gzip') body = gzipSync(body);
  }
  if (body.byteLength > maxBytes && spans.length > 1) {
    const mid = spans.length >>> 1;
    encode(spans.slice(0, mid), format, maxBytes, out);
    encode(spans.slice(mid), format, maxBytes, out);
    return;
  }
  out.push({ body: own(body), format, spans: spans.length });
}

export function buildBatches(plan: BatchPlan): BatchSet {
  const gen = new TraceGenerator({ seed: plan.seed, startUs: plan.startUs, traceGapUs: plan.traceGapUs });
  const r = new Random(plan.seed ^ 0x5bd1e995);
  const traceIds = new Reservoir(plan.samples, r);
  const entityKeys = new Reservoir(plan.samples, r);
  const userIds = new Reservoir(plan.samples, r);
  const operations = new Map<string, [string, string]>();
  const bodies: RequestBody[] = [];
  let pending: Span[] = [];
  let target = r.int(plan.minBatch, plan.maxBatch);
  let spans = 0;
  let traces = 0;
  const flush = (): void => {
    const u = r.next();
    const format: BodyFormat = u < plan.jsonShare ? 'json' : u < plan.jsonShare + plan.gzipShare ? 'protobuf+gzip' : 'protobuf';
    encode(pending, format, plan.maxBodyBytes, bodies);
    pending = [];
    target = r.int(plan.minBatch, plan.maxBatch);
  };
  while (spans < plan.spans) {
    const first = pending.length;
    spans += gen.next(pending);
    traces++;
    traceIds.offer(pending[first]!.traceId);
    for (let i = first; i < pending.length; i++) {
      const s = pending[i]!;
      if (s.kind === 'server' || s.kind === 'consumer') {
        const key = `${s.service}\u0000${s.name}`;
        if (!operations.has(key)) operations.set(key, [s.service, s.name]);
      }
    }
    // One value per trace: a trace's spans share them, and a per-span draw would favour big traces.
    const last = pending[pending.length - 1]!.attributes;
    const entity = last['linktrace.entity.key'];
    if (typeof entity === 'string') entityKeys.offer(entity);
    const user = pending[first]!.attributes['user.id'];
    if (typeof user === 'string') userIds.offer(user);
    if (pending.length >= target) flush();
  }
  if (pending.length > 0) flush();
  let bodyBytes = 0;
  for (const b of bodies) bodyBytes += b.body.byteLength;
  return {
    bodies,
    spans,
    traces,
    bodyBytes,
    samples: { traceIds: traceIds.items, operations: [...operations.values()], entityKeys: entityKeys.items, userIds: userIds.items },
  };
}
