/**
 * `X-Service-Transaction-ID`: a transaction id set by a gateway or a caller that does not trace.
 * It names a trace to join without a parent span (`Propagated.rootTraceId`), so that every service
 * that sees the same id records its spans in the same trace.
 */
import { createHash } from 'node:crypto';
import type { Propagated, Propagator, TextMapGetter, TextMapSetter } from '../types.js';
import { trimOws } from './header-values.js';
import { isLowerHexRange, isValidTraceId, isZeroRange, sliceTraceId } from './hex-ids.js';

export const SERVICE_TRANSACTION_ID_HEADER = 'x-service-transaction-id';
/** Longest opaque value accepted (after trimming whitespace). */
export const SERVICE_TRANSACTION_ID_MAX_LENGTH = 256;

export interface ServiceTransactionIdOptions {
  /** Also write the trace id into the header on inject. Default false (extract only). */
  inject?: boolean;
  /** Header name; default `x-service-transaction-id` (HTTP carriers match names in any case). */
  header?: string;
}

function isPrintableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/**
 * The trace id a transaction id stands for. 16 or 32 hex digits (any case, not all zero) are the id
 * itself, lowercased; any other printable ASCII value of at most 256 characters maps to the first
 * 16 bytes of its SHA-256, so every service derives the same id. Undefined for anything else.
 */
export function traceIdFromTransactionId(value: string): string | undefined {
  if (value.length > SERVICE_TRANSACTION_ID_MAX_LENGTH * 2) return undefined;
  const v = trimOws(value);
  if (v.length === 0 || v.length > SERVICE_TRANSACTION_ID_MAX_LENGTH || !isPrintableAscii(v)) return undefined;
  if (v.length === 32 || v.length === 16) {
    const lower = v.toLowerCase();
    if (isLowerHexRange(lower, 0, lower.length) && !isZeroRange(lower, 0, lower.length)) {
      return sliceTraceId(lower, 0, lower.length as 16 | 32);
    }
  }
  const hashed = createHash('sha256').update(v, 'utf8').digest('hex').slice(0, 32);
  return isValidTraceId(hashed) ? sliceTraceId(hashed, 0, 32) : undefined;
}

/** The `X-Service-Transaction-ID` propagator: extract-only unless `inject: true`. */
export function serviceTransactionIdPropagator(options: ServiceTransactionIdOptions = {}): Propagator {
  const header = typeof options.header === 'string' && options.header.length > 0 ? options.header : SERVICE_TRANSACTION_ID_HEADER;
  const injects = options.inject === true;
  const fields: readonly string[] = Object.freeze(injects ? [header] : []);

  return {
    inject<C>(value: Propagated, carrier: C, setter: TextMapSetter<C>): void {
      if (!injects) return;
      try {
        const traceId = value.spanContext?.traceId ?? value.rootTraceId;
        if (isValidTraceId(traceId)) setter.set(carrier, header, traceId);
      } catch {
        // Injection never throws.
      }
    },

    extract<C>(base: Propagated, carrier: C, getter: TextMapGetter<C>): Propagated {
      try {
        // Not `firstValue`: an opaque id may contain commas, so a string is taken whole.
        const found: unknown = getter.get(carrier, header);
        const raw: unknown = Array.isArray(found) ? found[0] : found;
        if (typeof raw !== 'string') return base;
        const rootTraceId = traceIdFromTransactionId(raw);
        return rootTraceId === undefined ? base : { ...base, rootTraceId };
      } catch {
        return base;
      }
    },

    fields(): readonly string[] {
      return fields;
    },
  };
}
