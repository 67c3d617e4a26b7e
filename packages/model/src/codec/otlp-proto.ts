/**
 * OTLP/HTTP protobuf (ExportTraceServiceRequest) <-> model, hand-written so that the model package
 * has no runtime dependency. Field numbers are those of opentelemetry/proto/trace/v1/trace.proto,
 * common/v1/common.proto and resource/v1/resource.proto.
 */
import type { AttributeValue, Attributes, Span } from '../span.js';
import { groupSpans, resourceAttributes } from './otlp-grouping.js';
import { OTLP_KIND, OTLP_STATUS } from './otlp-enums.js';
import { microsToNanoHalves } from './nanos.js';
import { ProtobufWriter } from './protobuf-writer.js';
import { emitWireAttributes, isShadowed, type WireAttributeSink } from './wire-attributes.js';

export { decodeOtlpProto } from './otlp-proto-decode.js';


const INT64_LIMIT = 9223372036854775808;

/** Writes AnyValue fields (the body of an AnyValue message). */
function writeScalarBody(w: ProtobufWriter, v: string | number | boolean, asDouble: boolean): void {
  if (typeof v === 'string') w.stringField(1, v);
  else if (typeof v === 'boolean') w.boolField(2, v);
  else if (!asDouble && Number.isInteger(v) && v < INT64_LIMIT && v > -INT64_LIMIT) w.int64Field(3, v);
  else w.doubleField(4, v);
}

function writeKeyValue(w: ProtobufWriter, field: number, key: string, v: AttributeValue, asDouble: boolean): void {
  if ((typeof v === 'string' || (typeof v === 'number' && !asDouble)) && w.shortKeyValue(field, key, v)) return;
  w.begin(field);
  w.stringField(1, key);
  w.begin(2);
  if (typeof v === 'object') {
    if (v instanceof Uint8Array) {
      w.bytesField(7, v);
    } else {
      w.begin(5);
      for (let i = 0; i < v.length; i++) {
        w.begin(1);
        writeScalarBody(w, v[i], asDouble);
        w.end();
      }
      w.end();
    }
  } else {
    writeScalarBody(w, v, asDouble);
  }
  w.end();
  w.end();
}

function writeAttributes(w: ProtobufWriter, field: number, attrs: Attributes): void {
  for (const key in attrs) writeKeyValue(w, field, key, attrs[key], false);
}

/** Writes the span's wire attributes (rpcid, remote, …) as field 9 KeyValues. */
class WireAttributeWriter implements WireAttributeSink {
  w: ProtobufWriter;
  constructor(w: ProtobufWriter) {
    this.w = w;
  }
  attr(key: string, value: string | number | boolean): void {
    writeKeyValue(this.w, 9, key, value, false);
  }
}

const halves = { lo: 0, hi: 0 };
/** Bytes to reserve per span; follows what the last request needed. */
let bytesPerSpanGuess = 256;

function writeSpan(w: ProtobufWriter, span: Span, wire: WireAttributeWriter): void {
  w.begin(2);
  w.hexField(1, span.traceId);
  w.hexField(2, span.spanId);
  if (span.traceState !== undefined) w.stringField(3, span.traceState);
  if (span.parentSpanId !== undefined) w.hexField(4, span.parentSpanId);
  w.stringField(5, span.name);
  w.uint32Field(6, OTLP_KIND[span.kind]);
  microsToNanoHalves(span.startUs, halves);
  w.fixed64Field(7, halves.lo, halves.hi);
  if (span.durationUs !== undefined) {
    microsToNanoHalves(span.startUs + span.durationUs, halves);
    w.fixed64Field(8, halves.lo, halves.hi);
  }
  const attrs = span.attributes;
  const doubles = span.doubleKeys;
  for (const key in attrs) {
    if (isShadowed(span, key)) continue;
    writeKeyValue(w, 9, key, attrs[key], doubles !== undefined && doubles.includes(key));
  }
  emitWireAttributes(span, wire);
  const dropped = span.dropped;
  if (dropped?.attributes) w.uint32Field(10, dropped.attributes);
  for (const e of span.events) {
    w.begin(11);
    microsToNanoHalves(e.timeUs, halves);
    w.fixed64Field(1, halves.lo, halves.hi);
    w.stringField(2, e.name);
    if (e.attributes !== undefined) writeAttributes(w, 3, e.attributes);
    w.end();
  }
  if (dropped?.events) w.uint32Field(12, dropped.events);
  for (const l of span.links) {
    w.begin(13);
    w.hexField(1, l.traceId);
    w.hexField(2, l.spanId);
    if (l.traceState !== undefined) w.stringField(3, l.traceState);
    if (l.attributes !== undefined) writeAttributes(w, 4, l.attributes);
    w.end();
  }
  if (dropped?.links) w.uint32Field(14, dropped.links);
  const status = span.status;
  if (status.code !== 'unset' || status.message !== undefined) {
    w.begin(15);
    if (status.message !== undefined) w.stringField(2, status.message);
    if (status.code !== 'unset') w.uint32Field(3, OTLP_STATUS[status.code]);
    w.end();
  }
  w.end();
}

/**
 * Model spans -> ExportTraceServiceRequest bytes. Grouping and `extraResource` as encodeOtlpJson.
 * The returned array is a view of a freshly allocated buffer owned by the caller.
 */
export function encodeOtlpProto(spans: readonly Span[], extraResource?: Attributes): Uint8Array {
  // Sized from the previous request's bytes per span: growing the buffer copies everything written.
  const w = new ProtobufWriter(256 + spans.length * bytesPerSpanGuess);
  const wire = new WireAttributeWriter(w);
  for (const group of groupSpans(spans)) {
    w.begin(1); // ResourceSpans
    w.begin(1); // Resource
    writeAttributes(w, 1, resourceAttributes(group, extraResource));
    w.end();
    for (const sg of group.scopes) {
      w.begin(2); // ScopeSpans
      const scope = sg.scope;
      if (scope !== undefined) {
        w.begin(1);
        w.stringField(1, scope.name);
        if (scope.version !== undefined) w.stringField(2, scope.version);
        if (scope.attributes !== undefined) writeAttributes(w, 3, scope.attributes);
        w.end();
      }
      for (const span of sg.spans) writeSpan(w, span, wire);
      w.end();
    }
    w.end();
  }
  const bytes = w.finish();
  if (spans.length > 0) bytesPerSpanGuess = Math.min(4096, Math.max(128, Math.ceil((bytes.length / spans.length) * 1.125)));
  return bytes;
}
