/**
 * Span → one staged text row. The Appender is called once per span (one VARCHAR) instead of once
 * per column: crossing into native code per value is what makes a wide append slow, and DuckDB
 * splits and casts the fields set-wise (off the JS thread) when it moves the batch into `spans`.
 * Field order is `STAGED_FIELDS` in schema.ts; optional fields hold ABSENT when missing.
 */
import { isStartRecord, isValidSpanId, isValidTraceId } from '@linktrace/model';
import type { Attributes, Span, SpanKind, StatusCode } from '@linktrace/model';
import type { AttributeColumns } from './attribute-columns.js';
import type { WrittenSets } from './search-hints.js';
import { ABSENT, ENTRY, FIELD, UNIT, encodeBag, escapeText, valueText } from './text-codec.js';

const ZERO16 = '0000000000000000';
export const KIND_CODE: Record<SpanKind, number> = { internal: 0, server: 1, client: 2, producer: 3, consumer: 4 };
export const STATUS_NUMBER: Record<StatusCode, number> = { unset: 0, ok: 1, error: 2 };

/** What the `extra` JSON column holds: the rarely-set parts of a span, with short keys. */
export interface SpanExtra {
  /** events: [timeUs, name, attribute bag?] */
  e?: [number, string, string?][];
  /** links: [traceId, spanId, traceState | null, attribute bag?] */
  l?: [string, string, string | null, string?][];
  ts?: string;
  r?: Span['remote'];
  sh?: boolean;
  d?: boolean;
  dk?: string[];
  dr?: Span['dropped'];
  /** durationUnknown: finished, length not reported (duration_us is NULL as on a start record) */
  du?: true;
}

/** Where `attributeFields` puts a span's attribute fields (reused from span to span). */
export interface AttributeFields {
  /** Stored text by promoted slot; the caller clears the slots it reads. */
  slots: (string | undefined)[];
  /** List entries of the other keys. */
  rest: string[];
  /** Kinds text, undefined when every value is a string. */
  kinds: string | undefined;
}

function opt(s: string | undefined): string {
  return s === undefined ? ABSENT : escapeText(s);
}

export class SpanRowEncoder {
  private readonly bags = new WeakMap<object, string>();
  private readonly rowFields: AttributeFields = { slots: [], rest: [], kinds: undefined };
  private readonly slotKind: string[] = [];
  private readonly unpromoted: string[] = [];
  /** Whether any encoded row carried an indexable link since the last `takeLinks()`. */
  private sawLinks = false;
  /** Whether any encoded row was a start record (no duration) since the last `takeStarts()`. */
  private sawStarts = false;

  /** `written` is kept current: every resource/scope text, list key and event/link key encoded goes in. */
  constructor(
    private readonly columns: AttributeColumns,
    private readonly written: Omit<WrittenSets, 'hints'>,
  ) {}

  private sideBag(attrs: Attributes): string {
    for (const k of Object.keys(attrs)) this.written.sideKeys.add(k);
    return encodeBag(attrs);
  }

  /** Resource and scope maps repeat across the spans of one process: encode each object once. */
  private bagOf(attrs: Attributes, registry: WrittenSets['resources']): string {
    let bag = this.bags.get(attrs);
    if (bag === undefined) {
      bag = encodeBag(attrs);
      this.bags.set(attrs, bag);
      registry.add(bag);
    }
    return bag;
  }

  takeLinks(): boolean {
    const saw = this.sawLinks;
    this.sawLinks = false;
    return saw;
  }

  takeStarts(): boolean {
    const saw = this.sawStarts;
    this.sawStarts = false;
    return saw;
  }

  encode(span: Span): string {
    const tid = span.traceId;
    let r = tid.length === 16 ? ZERO16 + tid + FIELD + '1' : tid + FIELD + ABSENT;
    r += FIELD + span.spanId + FIELD + (span.parentSpanId ?? ABSENT);
    r += FIELD + opt(span.rpcid) + FIELD + escapeText(span.service) + FIELD + opt(span.instance) + FIELD + escapeText(span.name);
    // start_us 0 is the stored form of an unknown start (a valid known start is above 0).
    r += FIELD + KIND_CODE[span.kind] + FIELD + (span.startUnknown === true ? 0 : Math.floor(span.startUs));
    r += FIELD + (span.durationUs === undefined ? ABSENT : Math.floor(span.durationUs));
    r += FIELD + STATUS_NUMBER[span.status.code] + FIELD + opt(span.status.message);
    r += this.encodeAttributes(span.attributes);
    r += FIELD + (span.resource === undefined ? ABSENT : this.resourceBag(span.resource));
    const scope = span.scope;
    if (scope === undefined) r += FIELD + ABSENT + FIELD + ABSENT + FIELD + ABSENT;
    else {
      r += FIELD + escapeText(scope.name) + FIELD + opt(scope.version);
      r += FIELD + (scope.attributes === undefined ? ABSENT : this.scopeBag(scope.attributes));
    }
    r += FIELD + opt(span.remote?.service);
    const x = this.extraFields(span);
    r += x === undefined ? FIELD + ABSENT + FIELD + ABSENT + FIELD + ABSENT : FIELD + (x.side ?? ABSENT) + FIELD + x.extra + FIELD + (x.links ?? ABSENT);
    return r;
  }

  /** The stored `resource` text of a span's resource (notes it for search hints). */
  resourceBag(attrs: Attributes): string {
    return this.bagOf(attrs, this.written.resources);
  }

  /** The stored `scope_attrs` text of a span's scope attributes (notes it for search hints). */
  scopeBag(attrs: Attributes): string {
    return this.bagOf(attrs, this.written.scopes);
  }

  /**
   * The attribute fields of one span, for a writer that stores them as columns (the block store):
   * fills `out.slots[slot]` with the stored text of each promoted key's value (the caller clears
   * what it reads) and returns the highest slot set (-1: none); pushes the other keys' list entries
   * (`key␟text`) to `out.rest`; `out.kinds` is the kinds text (promoted by slot, then the list), or
   * undefined when every value is a string. Also counts the sampled keys for promotion.
   */
  attributeFields(attrs: Attributes, out: AttributeFields): number {
    const slotOf = this.columns.slotOf;
    const slots = out.slots;
    const sample = this.columns.shouldSample();
    let top = -1;
    let restKinds = '';
    let typed = false;
    out.rest.length = 0;
    for (const key of Object.keys(attrs)) {
      const v = attrs[key]!;
      let kind: string;
      let text: string;
      if (typeof v === 'string') {
        kind = 's';
        text = escapeText(v);
      } else {
        kind = typeof v === 'number' ? 'n' : typeof v === 'boolean' ? 'b' : v instanceof Uint8Array ? 'x' : 'a';
        text = valueText(v);
        typed = true;
      }
      const slot = slotOf.get(key);
      if (slot !== undefined) {
        slots[slot] = text;
        this.slotKind[slot] = kind;
        if (slot > top) top = slot;
      } else {
        out.rest.push(escapeText(key) + UNIT + text);
        restKinds += kind;
        this.written.restKeys.add(key);
        if (sample) this.unpromoted.push(key);
      }
    }
    if (sample) {
      this.columns.count(this.unpromoted);
      this.unpromoted.length = 0;
    }
    if (!typed) out.kinds = undefined;
    else {
      let kinds = '';
      for (let i = 0; i <= top; i++) if (slots[i] !== undefined) kinds += this.slotKind[i];
      out.kinds = kinds + restKinds;
    }
    return top;
  }

  /** FIELD kinds FIELD promoted FIELD rest. */
  private encodeAttributes(attrs: Attributes): string {
    const out = this.rowFields;
    const top = this.attributeFields(attrs, out);
    const slotText = out.slots;
    let promoted = top < 0 ? ABSENT : '';
    for (let i = 0; i <= top; i++) {
      const t = slotText[i];
      if (i > 0) promoted += ENTRY;
      if (t === undefined) promoted += ABSENT;
      else {
        promoted += t;
        slotText[i] = undefined;
      }
    }
    // Kinds follow read order: promoted columns by slot, then the rest list. Untyped spans store none.
    return FIELD + (out.kinds ?? ABSENT) + FIELD + promoted + FIELD + (out.rest.length === 0 ? ABSENT : out.rest.join(ENTRY));
  }

  /**
   * The rarely-set parts of a span: `side` (event/link attribute bags), `extra` (the JSON of
   * SpanExtra), `links` (the link index: trace key ␟ span id per valid link); undefined when the
   * span has none of them. Notes start records and links for the embedded store's insert.
   */
  extraFields(span: Span): { side: string | undefined; extra: string; links: string | undefined } | undefined {
    if (isStartRecord(span)) this.sawStarts = true;
    const { events, links } = span;
    if (
      events.length === 0 &&
      links.length === 0 &&
      span.traceState === undefined &&
      span.remote === undefined &&
      span.shared === undefined &&
      span.debug === undefined &&
      span.doubleKeys === undefined &&
      span.dropped === undefined &&
      span.durationUnknown !== true
    ) {
      return undefined;
    }
    const x: SpanExtra = {};
    let side = '';
    let linkIndex = '';
    if (events.length > 0) {
      x.e = events.map((e) => {
        if (e.attributes === undefined) return [e.timeUs, e.name];
        const bag = this.sideBag(e.attributes);
        side += bag;
        return [e.timeUs, e.name, bag];
      });
    }
    if (links.length > 0) {
      x.l = links.map((l) => {
        if (isValidTraceId(l.traceId, true) && isValidSpanId(l.spanId)) {
          linkIndex += (linkIndex === '' ? '' : ENTRY) + (l.traceId.length === 16 ? ZERO16 + l.traceId : l.traceId) + UNIT + l.spanId;
        }
        const ts = l.traceState ?? null;
        if (l.attributes === undefined) return [l.traceId, l.spanId, ts];
        const bag = this.sideBag(l.attributes);
        side += bag;
        return [l.traceId, l.spanId, ts, bag];
      });
    }
    if (span.traceState !== undefined) x.ts = span.traceState;
    if (span.remote !== undefined) x.r = span.remote;
    if (span.shared !== undefined) x.sh = span.shared;
    if (span.debug !== undefined) x.d = span.debug;
    if (span.doubleKeys !== undefined) x.dk = span.doubleKeys;
    if (span.dropped !== undefined) x.dr = span.dropped;
    if (span.durationUnknown === true) x.du = true;
    if (linkIndex !== '') this.sawLinks = true;
    // JSON.stringify escapes every control character: the JSON needs no escaping of its own.
    return { side: side === '' ? undefined : side, extra: JSON.stringify(x), links: linkIndex === '' ? undefined : linkIndex };
  }
}
