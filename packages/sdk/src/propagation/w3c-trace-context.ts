/**
 * W3C Trace Context Level 1: the `traceparent` and `tracestate` headers. The position id rides in
 * `tracestate` as Linktrace's own member `lt=<rpcid>` (DESIGN §2).
 */
import { TRACE_FLAG_RANDOM, TRACE_FLAG_SAMPLED } from '../types.js';
import type { Propagated, Propagator, SpanContext, TextMapGetter, TextMapSetter } from '../types.js';
import { combinedValue, singleValue, trimOws } from './header-values.js';
import { isLowerHexRange, isValidSpanId, isValidTraceId, isZeroRange, sliceTraceId, toTraceId128 } from './hex-ids.js';
import { isValidRpcid } from '@linktrace/model';
import { splitTraceState, TRACESTATE_MAX_LENGTH, TRACESTATE_MAX_MEMBERS } from './trace-state.js';

export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';
/** The `tracestate` key under which Linktrace carries the rpcid. */
export const RPCID_TRACESTATE_KEY = 'lt';
/** Longest `traceparent` read (before trimming whitespace); longer values are ignored unread. */
export const TRACEPARENT_MAX_LENGTH = 512;

/** The fields of a valid `traceparent`. */
export interface Traceparent {
  /** 32 lowercase hex, or 16 when the upper half is zero (a 64-bit Zipkin id, see `sliceTraceId`). */
  traceId: string;
  spanId: string;
  /** Only the sampled bit: the spec has vendors set every other flag to 0 on outgoing requests. */
  traceFlags: number;
}

const VERSION_00_LENGTH = 55;
const DASH = 45;
const LT_PREFIX = `${RPCID_TRACESTATE_KEY}=`;

function nibble(c: number): number {
  return c <= 57 ? c - 48 : c - 87;
}

/** The byte encoded by two lowercase hex characters at `i`, or -1. */
function hexByte(s: string, i: number): number {
  return isLowerHexRange(s, i, i + 2) ? (nibble(s.charCodeAt(i)) << 4) | nibble(s.charCodeAt(i + 1)) : -1;
}

/**
 * Parses a `traceparent` value. Version 00 must be exactly `00-<32 hex>-<16 hex>-<2 hex>`; a higher
 * version (not `ff`) is read for its first four fields, which must be followed by the end of the
 * value or a dash. Optional whitespace around the value is allowed. Undefined when invalid.
 */
export function parseTraceparent(value: string): Traceparent | undefined {
  if (value.length > TRACEPARENT_MAX_LENGTH) return undefined;
  const v = trimOws(value);
  if (v.length < VERSION_00_LENGTH) return undefined;
  const version = hexByte(v, 0);
  if (version < 0 || version === 0xff || v.charCodeAt(2) !== DASH) return undefined;
  if (version === 0 ? v.length !== VERSION_00_LENGTH : v.length > VERSION_00_LENGTH && v.charCodeAt(VERSION_00_LENGTH) !== DASH) {
    return undefined;
  }
  if (v.charCodeAt(35) !== DASH || v.charCodeAt(52) !== DASH) return undefined;
  if (!isLowerHexRange(v, 3, 35) || isZeroRange(v, 3, 35)) return undefined;
  if (!isLowerHexRange(v, 36, 52) || isZeroRange(v, 36, 52)) return undefined;
  const flags = hexByte(v, 53);
  if (flags < 0) return undefined;
  return { traceId: sliceTraceId(v, 3, 32), spanId: v.slice(36, 52), traceFlags: flags & (TRACE_FLAG_SAMPLED | TRACE_FLAG_RANDOM) };
}

/** `00-<trace>-<span>-<flags>` for a context with valid ids (a 16-hex trace id is left-padded), else undefined. */
export function formatTraceparent(spanContext: SpanContext): string | undefined {
  const { traceId, spanId } = spanContext;
  if (!isValidTraceId(traceId) || !isValidSpanId(spanId)) return undefined;
  // Flags other than sampled and random are unknown here and go out as zero (W3C: MUST).
  const flags = `0${spanContext.traceFlags & (TRACE_FLAG_SAMPLED | TRACE_FLAG_RANDOM)}`;
  return `00-${toTraceId128(traceId)}-${spanId}-${flags}`;
}

/**
 * The W3C Trace Context propagator. Extract: a valid `traceparent` gives `spanContext` (remote);
 * a valid `tracestate` then gives `rpcid` (from `lt=`, when its shape is valid) and `traceState`
 * (the other members). An invalid `traceparent` extracts nothing, `tracestate` included; an invalid
 * `tracestate` is discarded whole without affecting `traceparent`. Inject: `traceparent` version 00
 * and, when there is anything to send, `tracestate` with `lt=<rpcid>` left-most.
 */
export function w3cTraceContextPropagator(): Propagator {
  const fields: readonly string[] = Object.freeze([TRACEPARENT_HEADER, TRACESTATE_HEADER]);
  // A span's traceState is usually its parent's string, shared by every child: the list derived
  // from the last one is kept, so a busy service validates each distinct tracestate once.
  let cachedIn: string | undefined;
  let cachedAll = '';
  let cachedWithRoom = '';

  function refresh(traceState: string): void {
    const split = splitTraceState(traceState, RPCID_TRACESTATE_KEY, TRACESTATE_MAX_MEMBERS - 1);
    cachedIn = traceState;
    cachedAll = split?.rest ?? '';
    cachedWithRoom = split?.restLimited ?? '';
  }

  return {
    inject<C>(value: Propagated, carrier: C, setter: TextMapSetter<C>): void {
      try {
        const sc = value.spanContext;
        if (sc === undefined || sc === null) return;
        const traceparent = formatTraceparent(sc);
        if (traceparent === undefined) return;
        setter.set(carrier, TRACEPARENT_HEADER, traceparent);
        let rest = '';
        let restWithRoom = '';
        const traceState = sc.traceState;
        if (typeof traceState === 'string' && traceState.length > 0) {
          if (traceState !== cachedIn) refresh(traceState);
          rest = cachedAll;
          restWithRoom = cachedWithRoom;
        }
        const rpcid = sc.rpcid;
        let tracestate = rest;
        if (isValidRpcid(rpcid)) {
          tracestate = restWithRoom.length > 0 ? `${LT_PREFIX}${rpcid},${restWithRoom}` : LT_PREFIX + rpcid;
        }
        if (tracestate.length > 0) setter.set(carrier, TRACESTATE_HEADER, tracestate);
      } catch {
        // Injection never throws: a failing setter loses the headers, not the request.
      }
    },

    extract<C>(base: Propagated, carrier: C, getter: TextMapGetter<C>): Propagated {
      try {
        const raw = singleValue(getter.get(carrier, TRACEPARENT_HEADER));
        if (raw === undefined) return base;
        const parsed = parseTraceparent(raw);
        if (parsed === undefined) return base;
        const spanContext: SpanContext = {
          traceId: parsed.traceId,
          spanId: parsed.spanId,
          traceFlags: parsed.traceFlags,
          isRemote: true,
        };
        const combined = combinedValue(getter.get(carrier, TRACESTATE_HEADER), TRACESTATE_MAX_LENGTH, false);
        const split = combined === undefined ? undefined : splitTraceState(combined, RPCID_TRACESTATE_KEY, TRACESTATE_MAX_MEMBERS);
        if (split !== undefined) {
          if (isValidRpcid(split.value)) spanContext.rpcid = split.value;
          if (split.rest.length > 0) spanContext.traceState = split.rest;
        }
        return { ...base, spanContext };
      } catch {
        return base;
      }
    },

    fields(): readonly string[] {
      return fields;
    },
  };
}
