/**
 * Spans → the columns of one Parquet block. The columns are those of the embedded store's `spans`
 * table (schema.ts), holding the same stored values (escaped text, kind and status codes, the same
 * attribute slots `a<slot>` and `rest` list), so its query SQL runs over the files unchanged. Two
 * differences: Parquet has no 128-bit integer, so the trace id is two UBIGINT halves (`tid_hi`,
 * `tid_lo`; block-relation.ts rebuilds `tid`), and each row carries `bseq`, the number of the
 * micro-block it was written in (tombstones hide the records written up to a number, see
 * tombstones.ts). Links to other spans (the embedded store's `span_links`) are the `links` text.
 *
 * The values are those the embedded store's row encoder stores (one home for how attributes, bags
 * and the rare parts are written: `attributeFields`, `resourceBag`, `extraFields`), taken field by
 * field, with no row text built and split again (that cost 19 µs/span, mostly garbage collection).
 */
import type { Span } from '@linktrace/model';
import type { ColumnSource } from 'hyparquet-writer';
import { attributeColumn } from '../embedded/schema.js';
import { KIND_CODE, STATUS_NUMBER } from '../embedded/span-row-encoder.js';
import type { AttributeFields, SpanRowEncoder } from '../embedded/span-row-encoder.js';
import { escapeText, unescapeText, UNIT } from '../embedded/text-codec.js';
import { restKeySet } from './manifest.js';
import { distinctSorted } from './trace-index.js';

/** Column name → Parquet schema element of the fixed columns, in file order. */
const U64 = { type: 'INT64', converted_type: 'UINT_64' } as const;
const I64 = { type: 'INT64' } as const;
const U8 = { type: 'INT32', converted_type: 'UINT_8' } as const;
const I32 = { type: 'INT32' } as const;
const STR = { type: 'BYTE_ARRAY', converted_type: 'UTF8' } as const;
const BOOL = { type: 'BOOLEAN' } as const;

type Scalar = typeof U64 | typeof I64 | typeof U8 | typeof I32 | typeof STR | typeof BOOL;

/**
 * How a column is written (parquet-pages.ts). `stats`: min/max kept (what DuckDB prunes row groups
 * by: ids, times and the block bookkeeping; the others cost CPU for nothing). `encoding`: dictionary
 * forced (names, services and other texts that repeat) or never tried (`PLAIN`: random ids, JSON);
 * unset, a text column gets a dictionary where it halves the bytes, a number column PLAIN.
 */
interface ColumnSpec {
  name: string;
  element: Scalar | 'list';
  required: boolean;
  stats?: true;
  encoding?: 'RLE_DICTIONARY' | 'PLAIN';
}

const DICT = 'RLE_DICTIONARY' as const;
const PLAIN = 'PLAIN' as const;

const FIXED: readonly ColumnSpec[] = [
  { name: 'tid_hi', element: U64, required: true, stats: true },
  { name: 'tid_lo', element: U64, required: true, stats: true },
  { name: 't64', element: BOOL, required: false },
  { name: 'sid', element: U64, required: true, encoding: PLAIN },
  { name: 'pid', element: U64, required: false, encoding: PLAIN },
  { name: 'rpcid', element: STR, required: false },
  { name: 'service', element: STR, required: true, encoding: DICT },
  { name: 'instance', element: STR, required: false, encoding: DICT },
  { name: 'name', element: STR, required: true, encoding: DICT },
  { name: 'kind', element: U8, required: true, encoding: DICT },
  { name: 'start_us', element: I64, required: true, stats: true, encoding: PLAIN },
  { name: 'duration_us', element: I64, required: false, encoding: PLAIN },
  { name: 'status', element: U8, required: true, encoding: DICT },
  { name: 'status_msg', element: STR, required: false },
  { name: 'kinds', element: STR, required: false, encoding: DICT },
  { name: 'rest', element: 'list', required: false },
  { name: 'resource', element: STR, required: false, encoding: DICT },
  { name: 'scope_name', element: STR, required: false, encoding: DICT },
  { name: 'scope_version', element: STR, required: false, encoding: DICT },
  { name: 'scope_attrs', element: STR, required: false, encoding: DICT },
  { name: 'remote_service', element: STR, required: false, encoding: DICT },
  { name: 'side', element: STR, required: false, encoding: PLAIN },
  { name: 'extra', element: STR, required: false, encoding: PLAIN },
  { name: 'links', element: STR, required: false, encoding: PLAIN },
  { name: 'arrived_us', element: I64, required: true, stats: true, encoding: DICT },
  { name: 'bseq', element: I64, required: true, stats: true, encoding: DICT },
  { name: 'pdelta', element: I32, required: false, encoding: DICT },
];

/** A block's columns, ready for the Parquet writer (parquet-pages.ts; `ColumnSource` is hyparquet-writer's shape). */
export interface BlockColumns {
  rows: number;
  /** Attribute slot columns `a0…` it has. */
  slots: number;
  columnData: ColumnSource[];
  schema: Record<string, unknown>[];
  /** Latest start (µs) of its spans. */
  maxStart: number;
  /** Distinct high halves of its trace ids, sorted (trace-index.ts). */
  traceHis: BigUint64Array;
  /** Smallest and largest 32-hex trace key in the block (rows are sorted by it). */
  minKey: string;
  maxKey: string;
  /** Attribute keys its `rest` lists hold (manifest.ts `restKeys`; undefined: too many). */
  restKeys: string[] | undefined;
}

const ZERO16 = '0000000000000000';
const keyOf = (traceId: string): string => (traceId.length === 16 ? ZERO16 + traceId : traceId);

// The id columns are filled through a 32-bit view of their BigUint64Array (no BigInt per value).
if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('block store: needs a little-endian machine');

/** The number of the 8 hex digits of `s` from `at` (lowercase, validated before). */
function hex32(s: string, at: number): number {
  let v = 0;
  for (let i = at; i < at + 8; i++) {
    const c = s.charCodeAt(i);
    v = v * 16 + (c <= 57 ? c - 48 : c - 87);
  }
  return v;
}

/** Writes the 16 hex digits of `s` from `at` as element `i` of the 64-bit array viewed by `u32`. */
function putHex64(u32: Uint32Array, i: number, s: string, at: number): void {
  u32[2 * i + 1] = hex32(s, at);
  u32[2 * i] = hex32(s, at + 8);
}

/**
 * The parent of each row: a parent in the block (same trace, so in the same run of rows) is a
 * position, `pdelta` = rows back from the row to the parent's first row (negative when the parent
 * sorts after it), `pid` NULL; a parent elsewhere keeps its id in `pid`. Random 8-byte parent ids
 * were a third of a block's bytes; distances within a trace are small and repeat.
 */
function parentPositions(
  spans: readonly Span[],
  order: readonly number[],
  keys: readonly string[],
  pid: (bigint | null)[],
  pdelta: (number | null)[],
  pidWords: Uint32Array,
  pidOne: BigUint64Array,
): void {
  const n = order.length;
  const first = new Map<string, number>();
  for (let a = 0; a < n; ) {
    const key = keys[order[a]!]!;
    let b = a;
    while (b < n && keys[order[b]!] === key) {
      const sid = spans[order[b]!]!.spanId;
      if (!first.has(sid)) first.set(sid, b);
      b++;
    }
    for (let i = a; i < b; i++) {
      const parent = spans[order[i]!]!.parentSpanId;
      const at = parent === undefined ? undefined : first.get(parent);
      if (parent === undefined) {
        pid[i] = null;
        pdelta[i] = null;
      } else if (at !== undefined) {
        pid[i] = null;
        pdelta[i] = i - at;
      } else {
        putHex64(pidWords, 0, parent, 0);
        pid[i] = pidOne[0]!;
        pdelta[i] = null;
      }
    }
    first.clear();
    a = b;
  }
}

/**
 * Encodes validated spans into block columns, straight from the span objects (no row text): each
 * column an array in trace-id order, the ids as 64-bit integers. Every attribute slot known once
 * they are encoded (`slotCount()`, which encoding may raise by promoting keys) gets its column
 * `a<slot>` (NULL where a span has no value), so that every file has every slot known when it was
 * written.
 */
export function encodeBlock(spans: readonly Span[], encoder: SpanRowEncoder, slotCount: () => number, arrivedUs: number, bseq: number): BlockColumns {
  const n = spans.length;
  // Sort order of a block: by trace key, then start (trace lookups read narrow row ranges); an
  // index permutation, the spans themselves are not copied.
  const keys = new Array<string>(n);
  for (let i = 0; i < n; i++) keys[i] = keyOf(spans[i]!.traceId);
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => {
    const ka = keys[a]!;
    const kb = keys[b]!;
    return ka < kb ? -1 : ka > kb ? 1 : spans[a]!.startUs - spans[b]!.startUs;
  });
  const hi = new BigUint64Array(n);
  const lo = new BigUint64Array(n);
  const tidHi = new Uint32Array(hi.buffer);
  const tidLo = new Uint32Array(lo.buffer);
  const sid = new BigUint64Array(n);
  const sidWords = new Uint32Array(sid.buffer);
  const pidOne = new BigUint64Array(1);
  const pidWords = new Uint32Array(pidOne.buffer);
  const kind = new Int32Array(n);
  const start = new BigInt64Array(n);
  const startWords = new Uint32Array(start.buffer);
  const status = new Int32Array(n);
  const t64 = new Array<boolean | null>(n);
  const pid = new Array<bigint | null>(n);
  const rpcid = new Array<string | null>(n);
  const service = new Array<string>(n);
  const instance = new Array<string | null>(n);
  const name = new Array<string>(n);
  // Durations as numbers (Smis below 2^31 µs), not a BigInt per span: the head keeps these arrays
  // for seconds and the old-generation marker traced every BigInt (issue 12 round 2); the Parquet
  // writer stages numbers into its 64-bit array as it does BigInts.
  const duration = new Array<number | null>(n);
  const statusMsg = new Array<string | null>(n);
  const kinds = new Array<string | null>(n);
  const rest = new Array<string[] | null>(n);
  const resource = new Array<string | null>(n);
  const scopeName = new Array<string | null>(n);
  const scopeVersion = new Array<string | null>(n);
  const scopeAttrs = new Array<string | null>(n);
  const remote = new Array<string | null>(n);
  const side = new Array<string | null>(n);
  const extra = new Array<string | null>(n);
  const links = new Array<string | null>(n);
  const pdelta = new Array<number | null>(n);
  const slots: (string | null)[][] = [];
  const slot = (s: number): (string | null)[] => {
    while (slots.length <= s) slots.push(new Array<string | null>(n).fill(null));
    return slots[s]!;
  };
  const fields: AttributeFields = { slots: [], rest: [], kinds: undefined };
  const restKeys = new Set<string>();
  for (let i = 0; i < n; i++) {
    const span = spans[order[i]!]!;
    const key = keys[order[i]!]!;
    putHex64(tidHi, i, key, 0);
    putHex64(tidLo, i, key, 16);
    t64[i] = span.traceId.length === 16 ? true : null;
    putHex64(sidWords, i, span.spanId, 0);
    rpcid[i] = span.rpcid === undefined ? null : escapeText(span.rpcid);
    service[i] = escapeText(span.service);
    instance[i] = span.instance === undefined ? null : escapeText(span.instance);
    name[i] = escapeText(span.name);
    kind[i] = KIND_CODE[span.kind];
    // start_us 0 is the stored form of an unknown start (a valid known start is above 0).
    // Written as its two 32-bit words: no BigInt made per span (starts are positive, below 2^53).
    const us = span.startUnknown === true ? 0 : Math.floor(span.startUs);
    const high = Math.floor(us / 0x1_0000_0000);
    startWords[2 * i] = us - high * 0x1_0000_0000;
    startWords[2 * i + 1] = high;
    duration[i] = span.durationUs === undefined ? null : Math.floor(span.durationUs);
    status[i] = STATUS_NUMBER[span.status.code];
    statusMsg[i] = span.status.message === undefined ? null : escapeText(span.status.message);
    const top = encoder.attributeFields(span.attributes, fields);
    for (let s = 0; s <= top; s++) {
      const text = fields.slots[s];
      if (text !== undefined) {
        slot(s)[i] = text;
        fields.slots[s] = undefined;
      }
    }
    kinds[i] = fields.kinds ?? null;
    if (fields.rest.length === 0) rest[i] = null;
    else {
      rest[i] = fields.rest.slice();
      // Entries are `escaped key␟text`: the escaped keys, unescaped once each at the end.
      for (const e of fields.rest) restKeys.add(e.slice(0, e.indexOf(UNIT)));
    }
    resource[i] = span.resource === undefined ? null : encoder.resourceBag(span.resource);
    const scope = span.scope;
    if (scope === undefined) {
      scopeName[i] = null;
      scopeVersion[i] = null;
      scopeAttrs[i] = null;
    } else {
      scopeName[i] = escapeText(scope.name);
      scopeVersion[i] = scope.version === undefined ? null : escapeText(scope.version);
      scopeAttrs[i] = scope.attributes === undefined ? null : encoder.scopeBag(scope.attributes);
    }
    remote[i] = span.remote?.service === undefined ? null : escapeText(span.remote.service);
    const x = encoder.extraFields(span);
    side[i] = x?.side ?? null;
    extra[i] = x === undefined ? null : x.extra;
    links[i] = x?.links ?? null;
  }
  parentPositions(spans, order, keys, pid, pdelta, pidWords, pidOne);
  // The encoder notes links and start records for the embedded store's insert; nothing to do here.
  encoder.takeLinks();
  encoder.takeStarts();
  const attributeSlots = slotCount();
  if (attributeSlots > 0) slot(attributeSlots - 1);
  const data: Record<string, unknown> = {
    tid_hi: hi,
    tid_lo: lo,
    t64,
    sid,
    pid,
    rpcid,
    service,
    instance,
    name,
    kind,
    start_us: start,
    duration_us: duration,
    status,
    status_msg: statusMsg,
    kinds,
    rest,
    resource,
    scope_name: scopeName,
    scope_version: scopeVersion,
    scope_attrs: scopeAttrs,
    remote_service: remote,
    side,
    extra,
    links,
    arrived_us: new BigInt64Array(n).fill(BigInt(arrivedUs)),
    bseq: new BigInt64Array(n).fill(BigInt(bseq)),
    pdelta,
  };
  const { schema, columnData } = blockColumnSources(data, slots.slice(0, attributeSlots));
  let maxStart = 0;
  for (let i = 0; i < n; i++) {
    const us = startWords[2 * i + 1]! * 0x1_0000_0000 + startWords[2 * i]!;
    if (us > maxStart) maxStart = us;
  }
  return { rows: n, slots: attributeSlots, columnData, schema, maxStart, traceHis: distinctSorted(hi), minKey: n === 0 ? '' : keys[order[0]!]!, maxKey: n === 0 ? '' : keys[order[n - 1]!]!, restKeys: restKeySet([...restKeys].map(unescapeText)) };
}

/**
 * The Parquet schema and column sources of block columns `data` (every fixed column, by name) and
 * attribute slot columns `slots` (`a0…`, in order): one home for how each column is written, used
 * for micro-blocks and for compacted files built from their columns (head-compaction.ts).
 */
export function blockColumnSources(data: Record<string, unknown>, slots: readonly (readonly (string | null)[])[]): { schema: Record<string, unknown>[]; columnData: ColumnSource[] } {
  const attributeSlots = slots.length;
  const schema: Record<string, unknown>[] = [{ name: 'root', num_children: FIXED.length + attributeSlots }];
  const columnData: ColumnSource[] = [];
  for (const { name: column, element, required, stats, encoding } of FIXED) {
    const repetition_type = required ? 'REQUIRED' : 'OPTIONAL';
    if (element === 'list') {
      schema.push(
        { name: column, repetition_type, converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', ...STR, repetition_type: 'REQUIRED' },
      );
    } else schema.push({ name: column, ...element, repetition_type });
    const source: ColumnSource = { name: column, data: data[column] as ColumnSource['data'], nullable: !required, statistics: stats === true };
    if (encoding !== undefined) source.encoding = encoding;
    columnData.push(source);
  }
  for (let s = 0; s < attributeSlots; s++) {
    const column = attributeColumn(s);
    schema.push({ name: column, ...STR, repetition_type: 'OPTIONAL' });
    columnData.push({ name: column, data: slots[s]! as (string | null)[], nullable: true, statistics: false });
  }
  return { schema, columnData };
}

/** Names of the fixed block columns, in file order (before the attribute slots `a0…`). */
export const FIXED_COLUMNS: readonly string[] = FIXED.map((c) => c.name);
