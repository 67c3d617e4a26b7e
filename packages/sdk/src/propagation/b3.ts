/**
 * Zipkin B3 propagation: the single `b3` header and the multi `X-B3-*` headers
 * (https://github.com/openzipkin/b3-propagation). 64-bit trace ids stay 16 hex (DESIGN §2).
 */
import { TRACE_FLAG_SAMPLED } from '../types.js';
import type { Propagated, Propagator, SpanContext, TextMapGetter, TextMapSetter } from '../types.js';
import { firstValue, trimOws } from './header-values.js';
import { isLowerHexRange, isValidSpanId, isValidTraceId, isZeroRange, sliceTraceId } from './hex-ids.js';

export const B3_SINGLE_HEADER = 'b3';
export const B3_TRACE_ID_HEADER = 'x-b3-traceid';
export const B3_SPAN_ID_HEADER = 'x-b3-spanid';
export const B3_PARENT_SPAN_ID_HEADER = 'x-b3-parentspanid';
export const B3_SAMPLED_HEADER = 'x-b3-sampled';
export const B3_FLAGS_HEADER = 'x-b3-flags';
/** Longest B3 value read; longer values are ignored unread. */
export const B3_MAX_LENGTH = 512;

/** Which headers `inject` writes: the single `b3` header, the `X-B3-*` headers, or both. */
export type B3Encoding = 'single' | 'multi' | 'both';

export interface B3PropagatorOptions {
  /** Default `'single'`. Extraction always reads both (the single header first). */
  inject?: B3Encoding;
}

const DASH = 45;

/** A valid non-zero id of `len` lowercase hex at `start`, followed by the end of `v` or a dash. */
function idAt(v: string, start: number, len: number): boolean {
  const end = start + len;
  return (
    isLowerHexRange(v, start, end) && !isZeroRange(v, start, end) && (end === v.length || v.charCodeAt(end) === DASH)
  );
}

function context(traceId: string, spanId: string, sampled: boolean, debug: boolean): SpanContext {
  const sc: SpanContext = { traceId, spanId, traceFlags: sampled || debug ? TRACE_FLAG_SAMPLED : 0, isRemote: true };
  if (debug) sc.debug = true;
  return sc;
}

/**
 * Parses `b3: {TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]]`. A value that is only a
 * sampling state (`0`, `1`, `d`) carries no trace to join: undefined, like an invalid value.
 * A deferred decision (no sampling state) extracts as not sampled.
 */
export function parseB3Single(value: string): SpanContext | undefined {
  if (value.length > B3_MAX_LENGTH) return undefined;
  const v = trimOws(value);
  const traceLen = v.indexOf('-');
  if ((traceLen !== 32 && traceLen !== 16) || !idAt(v, 0, traceLen)) return undefined;
  const spanStart = traceLen + 1;
  if (!idAt(v, spanStart, 16)) return undefined;
  let pos = spanStart + 16;
  let sampled = false;
  let debug = false;
  if (pos < v.length) {
    const state = v.charCodeAt(pos + 1);
    if (pos + 2 !== v.length && v.charCodeAt(pos + 2) !== DASH) return undefined;
    if (state === 49) sampled = true; // '1'
    else if (state === 100) debug = true; // 'd'
    else if (state !== 48) return undefined; // '0'
    pos += 2;
    if (pos < v.length && (v.length !== pos + 17 || !idAt(v, pos + 1, 16))) return undefined;
  }
  return context(sliceTraceId(v, 0, traceLen), v.slice(spanStart, spanStart + 16), sampled, debug);
}

function readFirst<C>(carrier: C, getter: TextMapGetter<C>, key: string): string | undefined {
  const v = firstValue(getter.get(carrier, key));
  if (v === undefined || v.length > B3_MAX_LENGTH) return undefined;
  const t = trimOws(v);
  return t.length === 0 ? undefined : t;
}

/** Reads the `X-B3-*` headers: trace and span id required, parent optional but checked when present. */
export function extractB3Multi<C>(carrier: C, getter: TextMapGetter<C>): SpanContext | undefined {
  const traceId = readFirst(carrier, getter, B3_TRACE_ID_HEADER);
  if (traceId === undefined || (traceId.length !== 32 && traceId.length !== 16) || !idAt(traceId, 0, traceId.length)) {
    return undefined;
  }
  const spanId = readFirst(carrier, getter, B3_SPAN_ID_HEADER);
  if (!isValidSpanId(spanId)) return undefined;
  const parent = readFirst(carrier, getter, B3_PARENT_SPAN_ID_HEADER);
  if (parent !== undefined && !isValidSpanId(parent)) return undefined;
  const sampledValue = readFirst(carrier, getter, B3_SAMPLED_HEADER);
  let sampled = false;
  if (sampledValue === '1' || sampledValue === 'true') sampled = true;
  else if (sampledValue !== undefined && sampledValue !== '0' && sampledValue !== 'false') return undefined;
  const debug = readFirst(carrier, getter, B3_FLAGS_HEADER) === '1';
  return context(sliceTraceId(traceId, 0, traceId.length as 16 | 32), spanId, sampled, debug);
}

/**
 * The B3 propagator. Extract: the single header wins; when it is absent or invalid the multi
 * headers are read. Inject writes the sampling decision (`d` / `X-B3-Flags: 1` when `debug`) and no
 * parent span id (a span context does not carry it).
 */
export function b3Propagator(options: B3PropagatorOptions = {}): Propagator {
  const encoding: B3Encoding = options.inject === 'multi' || options.inject === 'both' ? options.inject : 'single';
  const single = encoding !== 'multi';
  const multi = encoding !== 'single';
  const names: string[] = [];
  if (single) names.push(B3_SINGLE_HEADER);
  if (multi) names.push(B3_TRACE_ID_HEADER, B3_SPAN_ID_HEADER, B3_PARENT_SPAN_ID_HEADER, B3_SAMPLED_HEADER, B3_FLAGS_HEADER);
  const fields: readonly string[] = Object.freeze(names);

  return {
    inject<C>(value: Propagated, carrier: C, setter: TextMapSetter<C>): void {
      try {
        const sc = value.spanContext;
        if (sc === undefined || sc === null || !isValidTraceId(sc.traceId) || !isValidSpanId(sc.spanId)) return;
        const debug = sc.debug === true;
        const sampled = (sc.traceFlags & TRACE_FLAG_SAMPLED) !== 0;
        if (single) setter.set(carrier, B3_SINGLE_HEADER, `${sc.traceId}-${sc.spanId}-${debug ? 'd' : sampled ? '1' : '0'}`);
        if (multi) {
          setter.set(carrier, B3_TRACE_ID_HEADER, sc.traceId);
          setter.set(carrier, B3_SPAN_ID_HEADER, sc.spanId);
          // Debug implies an accept decision: the spec says not to send X-B3-Sampled with it.
          if (debug) setter.set(carrier, B3_FLAGS_HEADER, '1');
          else setter.set(carrier, B3_SAMPLED_HEADER, sampled ? '1' : '0');
        }
      } catch {
        // Injection never throws.
      }
    },

    extract<C>(base: Propagated, carrier: C, getter: TextMapGetter<C>): Propagated {
      try {
        const header = readFirst(carrier, getter, B3_SINGLE_HEADER);
        const spanContext = (header === undefined ? undefined : parseB3Single(header)) ?? extractB3Multi(carrier, getter);
        return spanContext === undefined ? base : { ...base, spanContext };
      } catch {
        return base;
      }
    },

    fields(): readonly string[] {
      return fields;
    },
  };
}
