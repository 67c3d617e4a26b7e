/**
 * Combining propagators: a composite reads with each in turn and writes with all of them.
 */
import type { Baggage, Propagated, Propagator, SpanContext, TextMapGetter, TextMapSetter } from '../types.js';
import { b3Propagator } from './b3.js';
import { serviceTransactionIdPropagator } from './service-transaction-id.js';
import { w3cBaggagePropagator } from './w3c-baggage.js';
import { w3cTraceContextPropagator } from './w3c-trace-context.js';

/** Each member extracts onto this empty object: returning it unchanged costs no allocation. */
const NOTHING: Propagated = Object.freeze({});

/**
 * A propagator made of `propagators`. Extract asks each in order and keeps, for each of
 * `spanContext`, `baggage` and `rootTraceId`, the first value found: an earlier propagator has
 * precedence, a later one only fills what the earlier ones did not find. What is found replaces the
 * same field of `base`. Inject writes with every member, in order. `fields()` is the union.
 */
export function compositePropagator(...propagators: Propagator[]): Propagator {
  const members = propagators.filter((p) => p !== undefined && p !== null);
  const fields: readonly string[] = Object.freeze([...new Set(members.flatMap((p) => [...p.fields()]))]);

  return {
    inject<C>(value: Propagated, carrier: C, setter: TextMapSetter<C>): void {
      for (const p of members) {
        try {
          p.inject(value, carrier, setter);
        } catch {
          // A member that breaks its contract must not stop the others.
        }
      }
    },

    extract<C>(base: Propagated, carrier: C, getter: TextMapGetter<C>): Propagated {
      let spanContext: SpanContext | undefined;
      let baggage: Baggage | undefined;
      let rootTraceId: string | undefined;
      for (const p of members) {
        let found: Propagated;
        try {
          found = p.extract(NOTHING, carrier, getter);
        } catch {
          continue;
        }
        if (found === NOTHING || found === undefined || found === null) continue;
        spanContext ??= found.spanContext;
        baggage ??= found.baggage;
        rootTraceId ??= found.rootTraceId;
      }
      if (spanContext === undefined && baggage === undefined && rootTraceId === undefined) return base;
      const out: Propagated = { ...base };
      if (spanContext !== undefined) out.spanContext = spanContext;
      if (baggage !== undefined) out.baggage = baggage;
      if (rootTraceId !== undefined) out.rootTraceId = rootTraceId;
      return out;
    },

    fields(): readonly string[] {
      return fields;
    },
  };
}

/** `propagator` for reading only: its inject writes nothing and its `fields()` is empty. */
export function extractOnly(propagator: Propagator): Propagator {
  const fields: readonly string[] = Object.freeze([]);
  return {
    inject(): void {},
    extract<C>(base: Propagated, carrier: C, getter: TextMapGetter<C>): Propagated {
      try {
        return propagator.extract(base, carrier, getter);
      } catch {
        return base;
      }
    },
    fields(): readonly string[] {
      return fields;
    },
  };
}

/**
 * The SDK's default: writes W3C `traceparent`/`tracestate` and `baggage`; reads those, then B3
 * (single, then multi) and `X-Service-Transaction-ID`. So a W3C context wins over a B3 one, and the
 * transaction id only matters when neither is present.
 */
export function defaultPropagator(): Propagator {
  return compositePropagator(
    w3cTraceContextPropagator(),
    w3cBaggagePropagator(),
    extractOnly(b3Propagator()),
    serviceTransactionIdPropagator(),
  );
}
