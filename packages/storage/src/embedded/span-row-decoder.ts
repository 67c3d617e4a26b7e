/**
 * A `spans` row (columns of `spanColumnsSql`) → the span as it was written. Exact for every field of
 * the model, with two documented limits: times are whole µs, and -0 reads back as 0.
 */
import { SPAN_KINDS } from '@linktrace/model';
import type { Attributes, Span, SpanEvent, SpanLink, StatusCode } from '@linktrace/model';
import { setOwn } from './own-property.js';
import type { SpanExtra } from './span-row-encoder.js';
import { UNIT, decodeBag, decodeValue, unescapeText } from './text-codec.js';

export const STATUS_OF: readonly StatusCode[] = ['unset', 'ok', 'error'];

/** Column positions in a row of `spanColumnsSql`. */
const C = {
  traceId: 0,
  spanId: 1,
  parentSpanId: 2,
  rpcid: 3,
  service: 4,
  instance: 5,
  name: 6,
  kind: 7,
  start: 8,
  duration: 9,
  status: 10,
  statusMsg: 11,
  kinds: 12,
  rest: 13,
  resource: 14,
  scopeName: 15,
  scopeVersion: 16,
  scopeAttrs: 17,
  extra: 18,
  firstAttributeColumn: 19,
} as const;

type Row = readonly unknown[];

const str = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : unescapeText(v as string));

function decodeAttributes(row: Row, keys: readonly string[]): Attributes {
  const attrs: Attributes = {};
  const kinds = row[C.kinds] as string | null;
  let k = 0;
  for (let i = 0; i < keys.length; i++) {
    const text = row[C.firstAttributeColumn + i] as string | null;
    if (text === null || text === undefined) continue;
    setOwn(attrs, keys[i]!, kinds === null ? unescapeText(text) : decodeValue(kinds[k], text));
    k++;
  }
  const rest = row[C.rest] as string[] | null;
  if (rest !== null) {
    for (const entry of rest) {
      const cut = entry.indexOf(UNIT);
      const text = entry.slice(cut + 1);
      setOwn(attrs, unescapeText(entry.slice(0, cut)), kinds === null ? unescapeText(text) : decodeValue(kinds[k], text));
      k++;
    }
  }
  return attrs;
}

export function decodeSpanRow(row: Row, attributeKeys: readonly string[]): Span {
  const span: Span = {
    traceId: row[C.traceId] as string,
    spanId: row[C.spanId] as string,
    service: unescapeText(row[C.service] as string),
    name: unescapeText(row[C.name] as string),
    kind: SPAN_KINDS[row[C.kind] as number]!,
    startUs: row[C.start] as number,
    status: { code: STATUS_OF[row[C.status] as number]! },
    attributes: decodeAttributes(row, attributeKeys),
    events: [],
    links: [],
  };
  const parent = row[C.parentSpanId] as string | null;
  if (parent !== null) span.parentSpanId = parent;
  const rpcid = str(row[C.rpcid]);
  if (rpcid !== undefined) span.rpcid = rpcid;
  const instance = str(row[C.instance]);
  if (instance !== undefined) span.instance = instance;
  const duration = row[C.duration] as number | null;
  if (duration !== null) span.durationUs = duration;
  if (span.startUs === 0) span.startUnknown = true;
  const message = str(row[C.statusMsg]);
  if (message !== undefined) span.status.message = message;
  const resource = row[C.resource] as string | null;
  if (resource !== null) span.resource = decodeBag(resource);
  const scopeName = str(row[C.scopeName]);
  if (scopeName !== undefined) {
    span.scope = { name: scopeName };
    const version = str(row[C.scopeVersion]);
    if (version !== undefined) span.scope.version = version;
    const attrs = row[C.scopeAttrs] as string | null;
    if (attrs !== null) span.scope.attributes = decodeBag(attrs);
  }
  const extra = row[C.extra] as string | null;
  if (extra !== null) applyExtra(span, JSON.parse(extra) as SpanExtra);
  return span;
}

function applyExtra(span: Span, x: SpanExtra): void {
  if (x.e !== undefined) {
    span.events = x.e.map(([timeUs, name, bag]) => {
      const e: SpanEvent = { timeUs, name };
      if (bag !== undefined) e.attributes = decodeBag(bag);
      return e;
    });
  }
  if (x.l !== undefined) {
    span.links = x.l.map(([traceId, spanId, traceState, bag]) => {
      const l: SpanLink = { traceId, spanId };
      if (traceState !== null) l.traceState = traceState;
      if (bag !== undefined) l.attributes = decodeBag(bag);
      return l;
    });
  }
  if (x.ts !== undefined) span.traceState = x.ts;
  if (x.r !== undefined) span.remote = x.r;
  if (x.sh !== undefined) span.shared = x.sh;
  if (x.d !== undefined) span.debug = x.d;
  if (x.dk !== undefined) span.doubleKeys = x.dk;
  if (x.dr !== undefined) span.dropped = x.dr;
  if (x.du === true) span.durationUnknown = true;
}
