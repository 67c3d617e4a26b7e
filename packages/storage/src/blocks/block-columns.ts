/**
 * Spans → the columns of one Parquet block. The columns are those of the embedded store's `spans`
 * table (schema.ts), holding the same stored values (escaped text, kind and status codes, the same
 * attribute slots `a<slot>` and `rest` list), so its query SQL runs over the files unchanged. Two
 * differences: Parquet has no 128-bit integer, so the trace id is two UBIGINT halves (`tid_hi`,
 * `tid_lo`; block-relation.ts rebuilds `tid`), and each row carries `bseq`, the number of the
 * micro-block it was written in (tombstones hide the records written up to a number, see
 * tombstones.ts). Links to other spans (the embedded store's `span_links`) are the `links` text.
 *
 * The row values come from the embedded store's row encoder (one home for how a span is stored);
 * its delimited row is split here into fields.
 */
import type { Span } from '@linktrace/model';
import type { ColumnSource } from 'hyparquet-writer';
import { F, attributeColumn } from '../embedded/schema.js';
import type { SpanRowEncoder } from '../embedded/span-row-encoder.js';
import { ABSENT, ENTRY, FIELD } from '../embedded/text-codec.js';

/** Column name → Parquet schema element of the fixed columns, in file order. */
const U64 = { type: 'INT64', converted_type: 'UINT_64' } as const;
const I64 = { type: 'INT64' } as const;
const U8 = { type: 'INT32', converted_type: 'UINT_8' } as const;
const STR = { type: 'BYTE_ARRAY', converted_type: 'UTF8' } as const;
const BOOL = { type: 'BOOLEAN' } as const;

type Scalar = typeof U64 | typeof I64 | typeof U8 | typeof STR | typeof BOOL;

/**
 * How a column is written. `stats`: min/max kept (what DuckDB prunes row groups by: ids, times and
 * the block bookkeeping; the others cost CPU for nothing). `dict`: dictionary forced (names, services
 * and other texts that repeat) or never tried (`plain`: random ids, JSON), so hyparquet-writer does
 * not sample every column to decide.
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
];

/** A block's columns, ready for hyparquet-writer. */
export interface BlockColumns {
  rows: number;
  /** Attribute slot columns `a0…` it has. */
  slots: number;
  columnData: ColumnSource[];
  schema: Record<string, unknown>[];
  /** Smallest and largest 32-hex trace key in the block (rows are sorted by it). */
  minKey: string;
  maxKey: string;
}

const ZERO16 = '0000000000000000';
const keyOf = (traceId: string): string => (traceId.length === 16 ? ZERO16 + traceId : traceId);

/** Sort order of a block: by trace key, then start (trace lookups read narrow row ranges). */
function byKeyThenStart(a: Span, b: Span): number {
  const ka = keyOf(a.traceId);
  const kb = keyOf(b.traceId);
  return ka < kb ? -1 : ka > kb ? 1 : a.startUs - b.startUs;
}

const opt = (s: string): string | null => (s === ABSENT ? null : s);

/**
 * Encodes validated spans into block columns. Every attribute slot known once they are encoded
 * (`slotCount()`, which encoding may raise by promoting keys) gets its column `a<slot>` (NULL where a
 * span has no value), so that every file has every slot known when it was written.
 */
export function encodeBlock(spans: readonly Span[], encoder: SpanRowEncoder, slotCount: () => number, arrivedUs: number, bseq: number): BlockColumns {
  const sorted = [...spans].sort(byKeyThenStart);
  const n = sorted.length;
  const data: unknown[][] = FIXED.map(() => new Array<unknown>(n));
  const hi = new BigUint64Array(n);
  const lo = new BigUint64Array(n);
  const sid = new BigUint64Array(n);
  const kind = new Int32Array(n);
  const start = new BigInt64Array(n);
  const status = new Int32Array(n);
  const slots: (string | null)[][] = [];
  const slot = (s: number): (string | null)[] => {
    while (slots.length <= s) slots.push(new Array<string | null>(n).fill(null));
    return slots[s]!;
  };
  const fieldOf = (name: string): number => FIXED.findIndex((c) => c.name === name);
  const col = {
    t64: data[fieldOf('t64')]!,
    pid: data[fieldOf('pid')]!,
    rpcid: data[fieldOf('rpcid')]!,
    service: data[fieldOf('service')]!,
    instance: data[fieldOf('instance')]!,
    name: data[fieldOf('name')]!,
    duration: data[fieldOf('duration_us')]!,
    statusMsg: data[fieldOf('status_msg')]!,
    kinds: data[fieldOf('kinds')]!,
    rest: data[fieldOf('rest')]!,
    resource: data[fieldOf('resource')]!,
    scopeName: data[fieldOf('scope_name')]!,
    scopeVersion: data[fieldOf('scope_version')]!,
    scopeAttrs: data[fieldOf('scope_attrs')]!,
    remote: data[fieldOf('remote_service')]!,
    side: data[fieldOf('side')]!,
    extra: data[fieldOf('extra')]!,
    links: data[fieldOf('links')]!,
  };
  for (let i = 0; i < n; i++) {
    const f = encoder.encode(sorted[i]!).split(FIELD);
    const tid = f[F.tid - 1]!;
    hi[i] = BigInt(`0x${tid.slice(0, 16)}`);
    lo[i] = BigInt(`0x${tid.slice(16)}`);
    col.t64[i] = f[F.t64 - 1] === '1' ? true : null;
    sid[i] = BigInt(`0x${f[F.sid - 1]}`);
    const pid = f[F.pid - 1]!;
    col.pid[i] = pid === ABSENT ? null : BigInt(`0x${pid}`);
    col.rpcid[i] = opt(f[F.rpcid - 1]!);
    col.service[i] = f[F.service - 1];
    col.instance[i] = opt(f[F.instance - 1]!);
    col.name[i] = f[F.name - 1];
    kind[i] = Number(f[F.kind - 1]);
    start[i] = BigInt(f[F.start - 1]!);
    const duration = f[F.duration - 1]!;
    col.duration[i] = duration === ABSENT ? null : BigInt(duration);
    status[i] = Number(f[F.status - 1]);
    col.statusMsg[i] = opt(f[F.statusMsg - 1]!);
    col.kinds[i] = opt(f[F.kinds - 1]!);
    const promoted = f[F.promoted - 1]!;
    if (promoted !== ABSENT) {
      const texts = promoted.split(ENTRY);
      for (let s = 0; s < texts.length; s++) if (texts[s] !== ABSENT) slot(s)[i] = texts[s]!;
    }
    const rest = f[F.rest - 1]!;
    col.rest[i] = rest === ABSENT ? null : rest.split(ENTRY);
    col.resource[i] = opt(f[F.resource - 1]!);
    col.scopeName[i] = opt(f[F.scopeName - 1]!);
    col.scopeVersion[i] = opt(f[F.scopeVersion - 1]!);
    col.scopeAttrs[i] = opt(f[F.scopeAttrs - 1]!);
    col.remote[i] = opt(f[F.remoteService - 1]!);
    col.side[i] = opt(f[F.side - 1]!);
    col.extra[i] = opt(f[F.extra - 1]!);
    col.links[i] = opt(f[F.links - 1]!);
  }
  // The encoder notes links and start records for the embedded store's insert; nothing to do here.
  encoder.takeLinks();
  encoder.takeStarts();
  const attributeSlots = slotCount();
  if (attributeSlots > 0) slot(attributeSlots - 1);
  data[fieldOf('tid_hi')] = hi as unknown as unknown[];
  data[fieldOf('tid_lo')] = lo as unknown as unknown[];
  data[fieldOf('sid')] = sid as unknown as unknown[];
  data[fieldOf('kind')] = kind as unknown as unknown[];
  data[fieldOf('start_us')] = start as unknown as unknown[];
  data[fieldOf('status')] = status as unknown as unknown[];
  data[fieldOf('arrived_us')] = new BigInt64Array(n).fill(BigInt(arrivedUs)) as unknown as unknown[];
  data[fieldOf('bseq')] = new BigInt64Array(n).fill(BigInt(bseq)) as unknown as unknown[];
  const schema: Record<string, unknown>[] = [{ name: 'root', num_children: FIXED.length + attributeSlots }];
  const columnData: ColumnSource[] = [];
  FIXED.forEach(({ name, element, required, stats, encoding }, i) => {
    const repetition_type = required ? 'REQUIRED' : 'OPTIONAL';
    if (element === 'list') {
      schema.push(
        { name, repetition_type, converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', ...STR, repetition_type: 'REQUIRED' },
      );
    } else schema.push({ name, ...element, repetition_type });
    const column: ColumnSource = { name, data: data[i] as ColumnSource['data'], nullable: !required, statistics: stats === true };
    if (encoding !== undefined) column.encoding = encoding;
    columnData.push(column);
  });
  for (let s = 0; s < attributeSlots; s++) {
    const name = attributeColumn(s);
    schema.push({ name, ...STR, repetition_type: 'OPTIONAL' });
    columnData.push({ name, data: slots[s]!, nullable: true, statistics: false });
  }
  const first = sorted[0];
  const last = sorted[n - 1];
  return { rows: n, slots: attributeSlots, columnData, schema, minKey: first === undefined ? '' : keyOf(first.traceId), maxKey: last === undefined ? '' : keyOf(last.traceId) };
}
