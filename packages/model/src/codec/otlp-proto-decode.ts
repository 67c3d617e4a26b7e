/**
 * ExportTraceServiceRequest bytes -> model, in one pass with no intermediate message objects: ids go
 * straight from bytes to hex, attributes straight into the span's map. Within a ResourceSpans (and a
 * ScopeSpans) the resource (scope) may come after the spans on the wire, so the positions of the
 * nested messages are noted first and the spans decoded once the resource (scope) is known.
 */
import { Buffer } from 'node:buffer';
import type { AttributeScalar, AttributeValue, Attributes, InstrumentationScope, Span, SpanEvent, SpanKind, SpanLink } from '../span.js';
import { CodecError } from './codec-error.js';
import { setOwn } from './set-own.js';
import { newDecodeResult, rejectSpan, type DecodeResult, type RejectReason } from './decode-result.js';
import { FieldError, fail } from './field-error.js';
import { KIND_FROM_OTLP, STATUS_FROM_OTLP } from './otlp-enums.js';
import { nanoHalvesToMicros } from './nanos.js';
import { ProtobufReader } from './protobuf-reader.js';
import { LIMITS, UNKNOWN_SERVICE } from './validate.js';
import { RESOURCE_ATTR, takeWireAttribute, type WireFields } from './wire-attributes.js';

const MAX_VALUE_DEPTH = 16;

/** Set when the last AnyValue read held an integral double (its key then goes to doubleKeys). */
let sawIntegralDouble = false;

function isAllZero(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/** A bytes id of `lengths` bytes -> lowercase hex; undefined if empty; FieldError if bad or zero. */
function readId(r: ProtobufReader, end: number, field: string, allow8: boolean, allow16: boolean): string {
  const valueEnd = r.lengthEnd(end);
  const start = r.pos;
  r.pos = valueEnd;
  const len = valueEnd - start;
  if (!((len === 8 && allow8) || (len === 16 && allow16))) return fail(field, `${len} bytes`);
  if (isAllZero(r.buf, start, valueEnd)) return fail(field, 'all zero');
  return r.hex(start, valueEnd);
}

function readString(r: ProtobufReader, end: number, field: string, max: number, reason?: RejectReason): string {
  const valueEnd = r.lengthEnd(end);
  if (valueEnd - r.pos > max * 3) fail(field, 'too long', reason);
  const s = r.string(r.pos, valueEnd);
  r.pos = valueEnd;
  if (s.length > max) fail(field, 'too long', reason);
  return s;
}

/** A fixed64 ns timestamp as µs; beyond what a number holds exactly, the span is rejected. */
function nanosToMicros(r: ProtobufReader, end: number, field: string): number {
  r.fixed64(end);
  const us = nanoHalvesToMicros(r.lo, r.hi);
  if (us > Number.MAX_SAFE_INTEGER) fail(field, 'out of range');
  return us;
}

/** Reads a scalar AnyValue field whose tag was just read; null for any other field (skipped). */
function readScalar(r: ProtobufReader, end: number, tag: number): AttributeScalar | null {
  switch (tag) {
    case 10:
      return readString(r, end, 'attributes', LIMITS.maxStringLength, 'attribute_too_large');
    case 16:
      r.varint64(end);
      return r.lo !== 0 || r.hi !== 0;
    case 24:
      return r.int64(end);
    case 33: {
      const d = r.double(end);
      if (Number.isInteger(d)) sawIntegralDouble = true;
      return d;
    }
    default:
      r.skip(tag & 7, end);
      return null;
  }
}

/** The AnyValue message in [r.pos, end) as a plain JSON-able value (for kvlists and nested arrays). */
function readPlain(r: ProtobufReader, end: number, depth: number): unknown {
  if (depth > MAX_VALUE_DEPTH) fail('attributes', 'value nested too deeply');
  let value: unknown = null;
  while (r.pos < end) {
    const tag = r.uint32(end);
    if (tag === 42) {
      const e = r.lengthEnd(end);
      const out: unknown[] = [];
      while (r.pos < e) {
        const t = r.uint32(e);
        if (t !== 10) {
          r.skip(t & 7, e);
          continue;
        }
        if (out.length >= LIMITS.maxArrayLength) fail('attributes', 'array too long');
        const ve = r.lengthEnd(e);
        out.push(readPlain(r, ve, depth + 1));
      }
      value = out;
    } else if (tag === 50) {
      value = readKvlistPlain(r, r.lengthEnd(end), depth);
    } else if (tag === 58) {
      const e = r.lengthEnd(end);
      value = Buffer.from(r.buf.buffer, r.buf.byteOffset + r.pos, e - r.pos).toString('base64');
      r.pos = e;
    } else {
      const v = readScalar(r, end, tag);
      if (v !== null) value = v;
    }
  }
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

function readKvlistPlain(r: ProtobufReader, end: number, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let n = 0;
  while (r.pos < end) {
    const t = r.uint32(end);
    if (t !== 10) {
      r.skip(t & 7, end);
      continue;
    }
    if (++n > LIMITS.maxAttributes) fail('attributes', 'kvlist too long');
    const kvEnd = r.lengthEnd(end);
    let key = '';
    let v: unknown = null;
    while (r.pos < kvEnd) {
      const kt = r.uint32(kvEnd);
      if (kt === 10) key = readString(r, kvEnd, 'attributes', LIMITS.maxKeyLength);
      else if (kt === 18) {
        const ve = r.lengthEnd(kvEnd);
        v = readPlain(r, ve, depth + 1);
      } else r.skip(kt & 7, kvEnd);
    }
    setOwn(out, key, v);
  }
  return out;
}

/** JSON text of a nested value; integral doubles inside it do not make the key a double key. */
function plainJson(value: () => unknown): string {
  const saw = sawIntegralDouble;
  const text = JSON.stringify(value());
  sawIntegralDouble = saw;
  return text;
}

/** One element of an ArrayValue: a scalar, or JSON text when it nests arrays, kvlists or bytes. */
function readArrayItem(r: ProtobufReader, end: number): AttributeScalar | null {
  const start = r.pos;
  let item: AttributeScalar | null = null;
  while (r.pos < end) {
    const tag = r.uint32(end);
    if (tag === 42 || tag === 50 || tag === 58) {
      r.pos = start;
      return plainJson(() => readPlain(r, end, 1));
    }
    const v = readScalar(r, end, tag);
    if (v !== null) item = v;
  }
  return item;
}

/** An AnyValue message in [r.pos, end) -> attribute value; undefined when it holds no value. */
function readAnyValue(r: ProtobufReader, end: number): AttributeValue | undefined {
  let value: AttributeValue | undefined;
  while (r.pos < end) {
    const tag = r.uint32(end);
    if (tag === 42) {
      const e = r.lengthEnd(end);
      const out: AttributeScalar[] = [];
      while (r.pos < e) {
        const t = r.uint32(e);
        if (t !== 10) {
          r.skip(t & 7, e);
          continue;
        }
        if (out.length >= LIMITS.maxArrayLength) fail('attributes', 'array too long');
        const ve = r.lengthEnd(e);
        const item = readArrayItem(r, ve);
        r.pos = ve;
        if (item !== null) out.push(item);
      }
      value = out;
    } else if (tag === 50) {
      const e = r.lengthEnd(end);
      value = plainJson(() => readKvlistPlain(r, e, 0));
    } else if (tag === 58) {
      const e = r.lengthEnd(end);
      if (e - r.pos > LIMITS.maxBytesLength) fail('attributes', 'bytes too long', 'attribute_too_large');
      // A copy, so the span does not pin the request buffer (and is a plain Uint8Array, not a Buffer).
      const bytes = new Uint8Array(e - r.pos);
      bytes.set(r.buf.subarray(r.pos, e));
      value = bytes;
      r.pos = e;
    } else {
      const v = readScalar(r, end, tag);
      if (v !== null) value = v;
    }
  }
  return value;
}

/**
 * Reads one KeyValue in [r.pos, end) into `out`; with `doubles`/`wire` as for span attributes.
 */
function readKeyValue(r: ProtobufReader, end: number, out: Attributes, doubles: string[] | undefined, wire: WireFields | undefined): void {
  let key = '';
  let value: AttributeValue | undefined;
  sawIntegralDouble = false;
  while (r.pos < end) {
    const tag = r.uint32(end);
    if (tag === 10) key = readString(r, end, 'attributes', LIMITS.maxKeyLength);
    else if (tag === 18) {
      const e = r.lengthEnd(end);
      value = readAnyValue(r, e);
      r.pos = e;
    } else r.skip(tag & 7, end);
  }
  if (value === undefined) return;
  if (wire !== undefined && key.startsWith('linktrace.') && takeWireAttribute(wire, key, value)) return;
  setOwn(out, key, value);
  if (doubles !== undefined && sawIntegralDouble && typeof value !== 'string') doubles.push(key);
}

function readAttributesField(r: ProtobufReader, end: number, out: Attributes, counter: { n: number }, field: string): void {
  if (++counter.n > LIMITS.maxAttributes) fail(field, `more than ${LIMITS.maxAttributes} attributes`, 'too_many_attributes');
  const e = r.lengthEnd(end);
  readKeyValue(r, e, out, undefined, undefined);
  r.pos = e;
}

function nonEmpty(attrs: Attributes): Attributes | undefined {
  for (const _ in attrs) return attrs;
  return undefined;
}

interface ResourceInfo {
  service: string;
  instance: string | undefined;
  resource: Attributes | undefined;
}

function readResource(r: ProtobufReader, end: number): ResourceInfo {
  const attrs: Attributes = {};
  const counter = { n: 0 };
  while (r.pos < end) {
    const tag = r.uint32(end);
    if (tag === 10) readAttributesField(r, end, attrs, counter, 'resource.attributes');
    else r.skip(tag & 7, end);
  }
  const name = attrs[RESOURCE_ATTR.serviceName];
  const instance = attrs[RESOURCE_ATTR.instanceId];
  delete attrs[RESOURCE_ATTR.serviceName];
  delete attrs[RESOURCE_ATTR.instanceId];
  return {
    service: typeof name === 'string' && name !== '' ? name : UNKNOWN_SERVICE,
    instance: typeof instance === 'string' && instance !== '' ? instance : undefined,
    resource: nonEmpty(attrs),
  };
}

function readScope(r: ProtobufReader, end: number): InstrumentationScope | undefined {
  let name = '';
  let version: string | undefined;
  const attrs: Attributes = {};
  const counter = { n: 0 };
  while (r.pos < end) {
    const tag = r.uint32(end);
    if (tag === 10) name = readString(r, end, 'scope.name', LIMITS.maxStringLength);
    else if (tag === 18) version = readString(r, end, 'scope.version', LIMITS.maxStringLength);
    else if (tag === 26) readAttributesField(r, end, attrs, counter, 'scope.attributes');
    else r.skip(tag & 7, end);
  }
  if (version === '') version = undefined;
  const attributes = nonEmpty(attrs);
  if (name === '' && version === undefined && attributes === undefined) return undefined;
  const scope: InstrumentationScope = { name };
  if (version !== undefined) scope.version = version;
  if (attributes !== undefined) scope.attributes = attributes;
  return scope;
}

function readEvent(r: ProtobufReader, end: number, field: string): SpanEvent {
  let timeUs = -1;
  let name = '';
  const attrs: Attributes = {};
  const counter = { n: 0 };
  while (r.pos < end) {
    const tag = r.uint32(end);
    if (tag === 9) timeUs = nanosToMicros(r, end, `${field}.timeUnixNano`);
    else if (tag === 18) name = readString(r, end, `${field}.name`, LIMITS.maxStringLength);
    else if (tag === 26) readAttributesField(r, end, attrs, counter, `${field}.attributes`);
    else r.skip(tag & 7, end);
  }
  if (timeUs < 0) fail(`${field}.timeUnixNano`, 'missing');
  const attributes = nonEmpty(attrs);
  return attributes === undefined ? { timeUs, name } : { timeUs, name, attributes };
}

/** A link, or undefined when its ids are invalid (the caller drops and counts it). */
function readLink(r: ProtobufReader, end: number, field: string): SpanLink | undefined {
  let traceId: string | undefined;
  let spanId: string | undefined;
  let traceState: string | undefined;
  let bad = false;
  const attrs: Attributes = {};
  const counter = { n: 0 };
  while (r.pos < end) {
    const tag = r.uint32(end);
    if (tag === 10 || tag === 18) {
      try {
        if (tag === 10) traceId = readId(r, end, 'traceId', true, true);
        else spanId = readId(r, end, 'spanId', true, false);
      } catch (e) {
        if (!(e instanceof FieldError)) throw e;
        bad = true;
      }
    } else if (tag === 26) traceState = readString(r, end, `${field}.traceState`, LIMITS.maxStringLength);
    else if (tag === 34) readAttributesField(r, end, attrs, counter, `${field}.attributes`);
    else r.skip(tag & 7, end);
  }
  if (bad || traceId === undefined || spanId === undefined) return undefined;
  const link: SpanLink = { traceId, spanId };
  if (traceState !== undefined && traceState !== '') link.traceState = traceState;
  const attributes = nonEmpty(attrs);
  if (attributes !== undefined) link.attributes = attributes;
  return link;
}

/**
 * Shared by every decoded span without events, links or a status message: three objects fewer per
 * span for the collector. Frozen, so that code changing a decoded span in place fails loudly instead
 * of changing every other span (none does: merges and encoders build new arrays).
 */
const NO_EVENTS = Object.freeze([]) as unknown as SpanEvent[];
const NO_LINKS = Object.freeze([]) as unknown as SpanLink[];
const BARE_STATUS = STATUS_FROM_OTLP.map((code) => Object.freeze({ code }));

/** Reused by every readSpan call (decoding is synchronous): copied out only when non-empty. */
const doubleScratch: string[] = [];
const wireScratch: WireFields = {};

/** Decodes the Span message in [r.pos, end); throws FieldError for a span to reject. */
function readSpan(r: ProtobufReader, end: number, res: ResourceInfo, scope: InstrumentationScope | undefined, ctx: { spanId: string | undefined }): Span {
  let traceId: string | undefined;
  let spanId: string | undefined;
  let parentSpanId: string | undefined;
  let traceState: string | undefined;
  let name = '';
  let kind: SpanKind = 'internal';
  let startUs = 0;
  let endUs = 0;
  const attributes: Attributes = {};
  let attrCount = 0;
  let wire: WireFields | undefined;
  let droppedAttributes = 0;
  let droppedEvents = 0;
  let droppedLinks = 0;
  let events: SpanEvent[] = NO_EVENTS;
  let links: SpanLink[] = NO_LINKS;
  let statusCode = 0;
  let statusMessage: string | undefined;
  doubleScratch.length = 0;
  wireScratch.rpcid = undefined;
  wireScratch.remote = undefined;
  wireScratch.shared = undefined;
  wireScratch.debug = undefined;
  wireScratch.startUnknown = undefined;
  wireScratch.durationUnknown = undefined;

  while (r.pos < end) {
    const tag = r.uint32(end);
    switch (tag) {
      case 10:
        traceId = readId(r, end, 'traceId', true, true);
        break;
      case 18:
        spanId = readId(r, end, 'spanId', true, false);
        ctx.spanId = spanId;
        break;
      case 26:
        traceState = readString(r, end, 'traceState', LIMITS.maxStringLength);
        break;
      case 34: {
        const e = r.lengthEnd(end);
        const len = e - r.pos;
        if (len === 0 || (len === 8 && isAllZero(r.buf, r.pos, e))) parentSpanId = undefined;
        else if (len === 8) parentSpanId = r.hex(r.pos, e);
        else fail('parentSpanId', `${len} bytes`);
        r.pos = e;
        break;
      }
      case 42:
        name = readString(r, end, 'name', LIMITS.maxStringLength);
        break;
      case 48: {
        const k = r.uint32(end);
        if (k >= KIND_FROM_OTLP.length) fail('kind', `unknown value ${k}`);
        kind = KIND_FROM_OTLP[k];
        break;
      }
      case 57:
        startUs = nanosToMicros(r, end, 'startTimeUnixNano');
        break;
      case 65:
        endUs = nanosToMicros(r, end, 'endTimeUnixNano');
        break;
      case 74: {
        if (++attrCount > LIMITS.maxAttributes) fail('attributes', `more than ${LIMITS.maxAttributes} attributes`, 'too_many_attributes');
        const e = r.lengthEnd(end);
        readKeyValue(r, e, attributes, doubleScratch, wireScratch);
        wire = wireScratch;
        r.pos = e;
        break;
      }
      case 80:
        droppedAttributes = r.uint32(end);
        break;
      case 90: {
        if (events.length >= LIMITS.maxEvents) fail('events', 'too many');
        const e = r.lengthEnd(end);
        if (events === NO_EVENTS) events = [];
        events.push(readEvent(r, e, `events[${events.length}]`));
        r.pos = e;
        break;
      }
      case 96:
        droppedEvents = r.uint32(end);
        break;
      case 106: {
        if (links.length + droppedLinks >= LIMITS.maxLinks) fail('links', 'too many');
        const e = r.lengthEnd(end);
        const link = readLink(r, e, `links[${links.length}]`);
        if (link === undefined) droppedLinks++;
        else {
          if (links === NO_LINKS) links = [];
          links.push(link);
        }
        r.pos = e;
        break;
      }
      case 112:
        droppedLinks += r.uint32(end);
        break;
      case 122: {
        const e = r.lengthEnd(end);
        while (r.pos < e) {
          const t = r.uint32(e);
          if (t === 18) statusMessage = readString(r, e, 'status.message', LIMITS.maxStringLength);
          else if (t === 24) {
            statusCode = r.uint32(e);
            if (statusCode >= STATUS_FROM_OTLP.length) fail('status.code', `unknown value ${statusCode}`);
          } else r.skip(t & 7, e);
        }
        break;
      }
      default:
        r.skip(tag & 7, end);
    }
  }

  if (traceId === undefined) fail('traceId', 'missing');
  if (spanId === undefined) fail('spanId', 'missing');
  if (startUs === 0 && wire?.startUnknown !== true) fail('startTimeUnixNano', 'missing or zero');
  if (endUs !== 0 && endUs < startUs) fail('endTimeUnixNano', 'before startTimeUnixNano');

  const span: Span = {
    traceId,
    spanId,
    service: res.service,
    name,
    kind,
    startUs,
    status: statusMessage === undefined || statusMessage === '' ? BARE_STATUS[statusCode] : { code: STATUS_FROM_OTLP[statusCode], message: statusMessage },
    attributes,
    events,
    links,
  };
  if (parentSpanId !== undefined) span.parentSpanId = parentSpanId;
  if (wire?.rpcid !== undefined) span.rpcid = wire.rpcid;
  if (res.instance !== undefined) span.instance = res.instance;
  if (endUs !== 0) span.durationUs = endUs - startUs;
  if (traceState !== undefined && traceState !== '') span.traceState = traceState;
  if (res.resource !== undefined) span.resource = res.resource;
  if (scope !== undefined) span.scope = scope;
  if (wire !== undefined) {
    if (wire.remote !== undefined) span.remote = wire.remote;
    if (wire.shared !== undefined) span.shared = wire.shared;
    if (wire.debug !== undefined) span.debug = wire.debug;
    if (wire.startUnknown === true) span.startUnknown = true;
    if (wire.durationUnknown === true && endUs === 0) span.durationUnknown = true;
  }
  if (doubleScratch.length > 0) span.doubleKeys = doubleScratch.slice();
  if (droppedAttributes > 0 || droppedEvents > 0 || droppedLinks > 0) {
    const dropped: Span['dropped'] = {};
    if (droppedAttributes > 0) dropped.attributes = droppedAttributes;
    if (droppedEvents > 0) dropped.events = droppedEvents;
    if (droppedLinks > 0) dropped.links = droppedLinks;
    span.dropped = dropped;
  }
  return span;
}

function label(i: number, j: number, k: number, spanId: string | undefined): string {
  const id = spanId === undefined ? '' : ` (spanId ${spanId})`;
  return `resourceSpans[${i}].scopeSpans[${j}].spans[${k}]${id}`;
}

/**
 * ExportTraceServiceRequest bytes -> model spans. Unknown fields are skipped; truncated or malformed
 * protobuf throws CodecError; a span with bad fields is rejected and counted.
 */
export function decodeOtlpProto(bytes: Uint8Array): DecodeResult {
  if (!(bytes instanceof Uint8Array)) throw new CodecError('otlp-proto', 'body is not a byte array');
  const r = new ProtobufReader(bytes);
  const result = newDecodeResult();
  const end = bytes.length;
  const ctx: { spanId: string | undefined } = { spanId: undefined };
  const scopeStarts: number[] = [];
  const spanStarts: number[] = [];
  let i = -1;
  while (r.pos < end) {
    const tag = r.uint32(end);
    if (tag !== 10) {
      r.skip(tag & 7, end);
      continue;
    }
    i++;
    const rsEnd = r.lengthEnd(end);
    let res: ResourceInfo | undefined;
    let resError: string | undefined;
    scopeStarts.length = 0;
    while (r.pos < rsEnd) {
      const t = r.uint32(rsEnd);
      if (t === 10) {
        const e = r.lengthEnd(rsEnd);
        try {
          res = readResource(r, e);
        } catch (err) {
          if (!(err instanceof FieldError)) throw err;
          resError = err.message;
        }
        r.pos = e;
      } else if (t === 18) {
        scopeStarts.push(r.pos);
        r.pos = r.lengthEnd(rsEnd);
      } else r.skip(t & 7, rsEnd);
    }
    res ??= { service: UNKNOWN_SERVICE, instance: undefined, resource: undefined };
    for (let j = 0; j < scopeStarts.length; j++) {
      r.pos = scopeStarts[j];
      const ssEnd = r.lengthEnd(rsEnd);
      let scope: InstrumentationScope | undefined;
      let scopeError = resError;
      spanStarts.length = 0;
      while (r.pos < ssEnd) {
        const t = r.uint32(ssEnd);
        if (t === 10) {
          const e = r.lengthEnd(ssEnd);
          if (scopeError === undefined) {
            try {
              scope = readScope(r, e);
            } catch (err) {
              if (!(err instanceof FieldError)) throw err;
              scopeError = err.message;
            }
          }
          r.pos = e;
        } else if (t === 18) {
          spanStarts.push(r.pos);
          r.pos = r.lengthEnd(ssEnd);
        } else r.skip(t & 7, ssEnd);
      }
      for (let k = 0; k < spanStarts.length; k++) {
        r.pos = spanStarts[k];
        const spanEnd = r.lengthEnd(ssEnd);
        ctx.spanId = undefined;
        if (scopeError !== undefined) {
          rejectSpan(result, `${label(i, j, k, undefined)}: ${scopeError}`);
          continue;
        }
        try {
          result.spans.push(readSpan(r, spanEnd, res, scope, ctx));
        } catch (err) {
          if (!(err instanceof FieldError)) throw err;
          rejectSpan(result, `${label(i, j, k, ctx.spanId)}: ${err.message}`, err.reason);
        }
      }
      r.pos = ssEnd;
    }
    r.pos = rsEnd;
  }
  return result;
}
