/**
 * fast-check generators of canonical model spans: spans as decoders produce them (optional fields
 * absent rather than empty, doubleKeys listing exactly the keys of integral doubles), so that
 * encode -> decode must give back an equal span.
 */
import fc from 'fast-check';
import type { AttributeValue, Attributes, Span, SpanEvent, SpanLink } from '../src/span.js';
import { SPAN_KINDS } from '../src/span.js';

const hexChar = fc.constantFrom(...'0123456789abcdef'.split(''));
const hex = (n: number): fc.Arbitrary<string> =>
  fc.array(hexChar, { minLength: n, maxLength: n }).map((a) => a.join('')).filter((s) => /[^0]/.test(s));

export const traceIdArb = fc.oneof({ weight: 4, arbitrary: hex(32) }, { weight: 1, arbitrary: hex(16) });
export const spanIdArb = hex(16);
const rpcidArb = fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 6 }).map((a) => ['0', ...a].join('.'));
const text = fc.string({ maxLength: 20, unit: 'grapheme' });
const nonEmpty = fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' });
/** No -0: integral numbers travel as int64, which has no negative zero. */
const int = fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }).map((n) => (n === 0 ? 0 : n));
const fraction = fc.double({ noNaN: false }).filter((n) => !Number.isInteger(n));
const integralDouble = fc.integer({ min: -1e9, max: 1e9 }).map((n) => (n === 0 ? 0 : n));
const key = nonEmpty.filter((k) => !k.startsWith('linktrace.') && k !== '__proto__');

type Generated = { value: AttributeValue; double: boolean };

const valueArb: fc.Arbitrary<Generated> = fc.oneof(
  text.map((value) => ({ value, double: false })),
  int.map((value) => ({ value, double: false })),
  fraction.map((value) => ({ value, double: false })),
  integralDouble.map((value) => ({ value, double: true })),
  fc.boolean().map((value) => ({ value, double: false })),
  fc.array(text, { maxLength: 4 }).map((value) => ({ value, double: false })),
  fc.array(int, { maxLength: 4 }).map((value) => ({ value, double: false })),
  fc.array(integralDouble, { minLength: 1, maxLength: 4 }).map((value) => ({ value, double: true })),
  fc.array(fc.boolean(), { maxLength: 4 }).map((value) => ({ value, double: false })),
  fc.uint8Array({ maxLength: 16 }).map((value) => ({ value, double: false })),
);

/** Attributes plus the keys that must be listed in doubleKeys. */
const attributesArb = fc.dictionary(key, valueArb, { maxKeys: 6 }).map((d) => {
  const attributes: Attributes = {};
  const doubles: string[] = [];
  for (const k of Object.keys(d)) attributes[k] = d[k].value;
  for (const k in attributes) if (d[k].double) doubles.push(k);
  return { attributes, doubles };
});

/** Attributes of events, links, resources and scopes: no double tracking there, so no integral doubles. */
const plainAttributesArb = fc.dictionary(key, valueArb.filter((g) => !g.double), { minKeys: 1, maxKeys: 4 }).map((d) => {
  const out: Attributes = {};
  for (const k of Object.keys(d)) out[k] = d[k].value;
  return out;
});

const timeArb = fc.integer({ min: 1, max: 4e15 });

const eventArb: fc.Arbitrary<SpanEvent> = fc
  .record({ timeUs: timeArb, name: text, attributes: fc.option(plainAttributesArb, { nil: undefined }) })
  .map((e) => (e.attributes === undefined ? { timeUs: e.timeUs, name: e.name } : { timeUs: e.timeUs, name: e.name, attributes: e.attributes }));

const linkArb: fc.Arbitrary<SpanLink> = fc
  .record({
    traceId: traceIdArb,
    spanId: spanIdArb,
    traceState: fc.option(nonEmpty, { nil: undefined }),
    attributes: fc.option(plainAttributesArb, { nil: undefined }),
  })
  .map(dropUndefined);

function dropUndefined<T extends object>(o: T): T {
  const out = { ...o } as Record<string, unknown>;
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out as T;
}

const resourceArb = plainAttributesArb.map((a) => {
  delete a['service.name'];
  delete a['service.instance.id'];
  return a;
}).filter((a) => Object.keys(a).length > 0);

export const spanArb: fc.Arbitrary<Span> = fc
  .record({
    traceId: traceIdArb,
    spanId: spanIdArb,
    parentSpanId: fc.option(spanIdArb, { nil: undefined }),
    rpcid: fc.option(rpcidArb, { nil: undefined }),
    service: nonEmpty,
    instance: fc.option(nonEmpty, { nil: undefined }),
    name: text,
    kind: fc.constantFrom(...SPAN_KINDS),
    startUs: timeArb,
    durationUs: fc.option(fc.integer({ min: 0, max: 1e12 }), { nil: undefined }),
    status: fc.oneof(
      fc.constant({ code: 'unset' as const }),
      fc.constantFrom('ok' as const, 'error' as const).map((code) => ({ code })),
      fc.record({ code: fc.constantFrom('unset' as const, 'ok' as const, 'error' as const), message: nonEmpty }).map((st) => ({ ...st })),
    ),
    attrs: attributesArb,
    events: fc.array(eventArb, { maxLength: 3 }),
    links: fc.array(linkArb, { maxLength: 2 }),
    traceState: fc.option(nonEmpty, { nil: undefined }),
    resource: fc.option(resourceArb, { nil: undefined }),
    scope: fc.option(
      fc.record({ name: nonEmpty, version: fc.option(nonEmpty, { nil: undefined }), attributes: fc.option(plainAttributesArb, { nil: undefined }) }).map(dropUndefined),
      { nil: undefined },
    ),
    remote: fc.option(
      fc
        .record({
          service: fc.option(nonEmpty, { nil: undefined }),
          ipv4: fc.option(fc.ipV4(), { nil: undefined }),
          ipv6: fc.option(fc.ipV6(), { nil: undefined }),
          port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
        })
        .map(dropUndefined)
        .filter((r) => Object.keys(r).length > 0),
      { nil: undefined },
    ),
    shared: fc.option(fc.boolean(), { nil: undefined }),
    debug: fc.option(fc.boolean(), { nil: undefined }),
    unknownTimes: fc.constantFrom('none', 'none', 'none', 'start', 'duration', 'both'),
    dropped: fc.option(
      fc
        .record({
          attributes: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
          events: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
          links: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
        })
        .map(dropUndefined)
        .filter((d) => Object.keys(d).length > 0),
      { nil: undefined },
    ),
  })
  .map(({ attrs, unknownTimes, ...rest }) => {
    const span = dropUndefined({ ...rest, attributes: attrs.attributes }) as Span;
    if (attrs.doubles.length > 0) span.doubleKeys = attrs.doubles;
    // A Zipkin span without timestamp (start 0) and/or without duration (finished, length unknown).
    if (unknownTimes === 'start' || unknownTimes === 'both') {
      span.startUnknown = true;
      span.startUs = 0;
    }
    if (unknownTimes === 'duration' || unknownTimes === 'both') {
      span.durationUnknown = true;
      delete span.durationUs;
    }
    return span;
  });

/** Spans that share resources the way an SDK batch does, mixed with spans of other services. */
export const batchArb: fc.Arbitrary<Span[]> = fc.array(spanArb, { minLength: 1, maxLength: 8 });
