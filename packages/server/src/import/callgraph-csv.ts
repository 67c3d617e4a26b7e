/**
 * Call-graph CSV in the Alibaba cluster-trace-microservices format (v2021: timestamp, traceid, rpcid,
 * um, rpctype, interface, dm, rt; v2022 adds service, rpc_id, uminstanceid, dminstanceid and a
 * leading index column) -> model spans. One row is one call seen from one side:
 *
 * - `rpc`/`http` calls are recorded twice with the same rpcid: by the caller (um) with a positive
 *   `rt`, and by the callee (dm) with a negative one. They become a client span in um and a server
 *   span in dm sharing one span id, as Zipkin's shared spans do;
 * - `mq`: the time dm took to handle the message: a consumer span in dm;
 * - anything else (`db`, `mc`, unknown): a client span in um whose peer (remote service) is dm.
 *
 * Span ids are derived from (trace id, rpcid) and parents from the rpcid's parent position, so rows
 * link up whatever order and file they come in. `timestamp` and `rt` are ms.
 */
import { rpcidParent, rpcidProblem, UNKNOWN_SERVICE, validateSpan, type Span, type SpanKind } from '@linktrace/model';
import { importedTraceId, positionSpanId } from './imported-ids.js';

export interface CallGraphColumns {
  traceid: number;
  timestamp: number;
  rpcid: number;
  um: number;
  dm: number;
  /** -1 when the file has no such column. */
  rpctype: number;
  interface: number;
  rt: number;
  service: number;
  umInstance: number;
  dmInstance: number;
}

const ALIASES: Readonly<Record<keyof CallGraphColumns, readonly string[]>> = {
  traceid: ['traceid', 'trace_id'],
  timestamp: ['timestamp'],
  rpcid: ['rpcid', 'rpc_id'],
  um: ['um'],
  dm: ['dm'],
  rpctype: ['rpctype', 'rpc_type'],
  interface: ['interface'],
  rt: ['rt'],
  service: ['service'],
  umInstance: ['uminstanceid', 'um_instance_id', 'uminstance'],
  dmInstance: ['dminstanceid', 'dm_instance_id', 'dminstance'],
};

const REQUIRED: readonly (keyof CallGraphColumns)[] = ['traceid', 'timestamp', 'rpcid', 'um', 'dm'];

/** Attributes the import sets (besides the span fields). */
export const CALLGRAPH_ATTR = {
  traceId: 'alibaba.traceid',
  rpcType: 'alibaba.rpctype',
  service: 'alibaba.service',
} as const;

/**
 * Relative timestamps (the data sets count ms from the start of the collection) are placed after
 * this instant unless the user gives another base: 2021-01-01T00:00:00Z, in µs.
 */
export const DEFAULT_CALLGRAPH_BASE_US = Date.UTC(2021, 0, 1) * 1000;
/** Timestamps at or above this many ms are already ms since the epoch (1973 onwards). */
const EPOCH_MS_THRESHOLD = 1e11;

/** The column positions from a header row, or a message naming the missing columns. */
export function callGraphColumns(header: readonly string[]): CallGraphColumns | string {
  const index = new Map<string, number>();
  header.forEach((h, i) => {
    const name = h.trim().toLowerCase();
    if (!index.has(name)) index.set(name, i);
  });
  const cols = {} as CallGraphColumns;
  const missing: string[] = [];
  for (const key of Object.keys(ALIASES) as (keyof CallGraphColumns)[]) {
    let at = -1;
    for (const alias of ALIASES[key]) {
      const i = index.get(alias);
      if (i !== undefined) {
        at = i;
        break;
      }
    }
    if (at < 0 && REQUIRED.includes(key)) missing.push(ALIASES[key].join('/'));
    cols[key] = at;
  }
  return missing.length > 0 ? `not a call-graph CSV header: no ${missing.join(', ')} column` : cols;
}

/** True when `header` names the columns of a call-graph CSV. */
export function isCallGraphHeader(header: readonly string[]): boolean {
  return typeof callGraphColumns(header) !== 'string';
}

function field(fields: readonly string[], at: number): string {
  return at < 0 ? '' : (fields[at] ?? '').trim();
}

const NUMBER = /^-?[0-9]+(?:\.[0-9]+)?$/;

export interface CallGraphOptions {
  /** µs added to the timestamps; default: DEFAULT_CALLGRAPH_BASE_US for relative ones, 0 for epoch ms. */
  baseUs?: number;
  /** Ids already derived for the current trace (rows of a trace usually come together). */
  memo?: CallGraphMemo;
}

/** Remembers the last trace's derived ids: hashing them was most of the per-row cost. */
export class CallGraphMemo {
  private raw = '';
  private traceId = '';
  private readonly spanIds = new Map<string, string>();

  trace(raw: string): string {
    if (raw !== this.raw) {
      this.raw = raw;
      this.traceId = importedTraceId(raw);
      this.spanIds.clear();
    }
    return this.traceId;
  }

  /** Only valid for the trace last passed to `trace`. */
  spanId(rpcid: string): string {
    let id = this.spanIds.get(rpcid);
    if (id === undefined) {
      id = positionSpanId(this.traceId, rpcid);
      // A runaway trace must not grow the memo without bound.
      if (this.spanIds.size >= 4096) this.spanIds.clear();
      this.spanIds.set(rpcid, id);
    }
    return id;
  }
}

/** One row -> one span, or a message saying what is wrong with the row. */
export function callGraphSpan(fields: readonly string[], cols: CallGraphColumns, opts: CallGraphOptions = {}): Span | string {
  const rawTrace = field(fields, cols.traceid);
  if (rawTrace === '') return 'traceid is empty';
  const rpcid = field(fields, cols.rpcid);
  const rpcidWrong = rpcidProblem(rpcid);
  if (rpcidWrong !== undefined) return `rpcid ${JSON.stringify(rpcid.length > 40 ? `${rpcid.slice(0, 40)}…` : rpcid)}: ${rpcidWrong}`;
  const ts = field(fields, cols.timestamp);
  if (!NUMBER.test(ts)) return `timestamp ${JSON.stringify(ts.slice(0, 40))} is not a number of ms`;
  const rtText = field(fields, cols.rt);
  if (rtText !== '' && !NUMBER.test(rtText)) return `rt ${JSON.stringify(rtText.slice(0, 40))} is not a number of ms`;
  const rt = rtText === '' ? 0 : Number(rtText);
  const tsMs = Number(ts);
  const base = opts.baseUs ?? (tsMs >= EPOCH_MS_THRESHOLD ? 0 : DEFAULT_CALLGRAPH_BASE_US);
  const startUs = Math.round(base + tsMs * 1000);

  const um = field(fields, cols.um) || UNKNOWN_SERVICE;
  const dm = field(fields, cols.dm) || UNKNOWN_SERVICE;
  const rpcType = field(fields, cols.rpctype).toLowerCase();
  let kind: SpanKind;
  let calleeSide: boolean;
  if (rpcType === 'rpc' || rpcType === 'http') {
    calleeSide = rt < 0;
    kind = calleeSide ? 'server' : 'client';
  } else if (rpcType === 'mq') {
    calleeSide = true;
    kind = 'consumer';
  } else {
    calleeSide = false;
    kind = 'client';
  }
  const iface = field(fields, cols.interface);
  const memo = opts.memo;
  const traceId = memo === undefined ? importedTraceId(rawTrace) : memo.trace(rawTrace);
  const attributes: Record<string, string> = { [CALLGRAPH_ATTR.traceId]: rawTrace };
  if (rpcType !== '') attributes[CALLGRAPH_ATTR.rpcType] = rpcType;
  const service = field(fields, cols.service);
  if (service !== '') attributes[CALLGRAPH_ATTR.service] = service;

  const span: Span = {
    traceId,
    spanId: memo === undefined ? positionSpanId(traceId, rpcid) : memo.spanId(rpcid),
    rpcid,
    service: calleeSide ? dm : um,
    name: iface !== '' && iface !== '(?)' ? iface : rpcType || 'call',
    kind,
    startUs,
    durationUs: Math.round(Math.abs(rt) * 1000),
    status: { code: 'unset' },
    attributes,
    events: [],
    links: [],
    remote: { service: calleeSide ? um : dm },
  };
  const parent = rpcidParent(rpcid);
  if (parent !== undefined) span.parentSpanId = memo === undefined ? positionSpanId(traceId, parent) : memo.spanId(parent);
  const instance = field(fields, calleeSide ? cols.dmInstance : cols.umInstance);
  if (instance !== '') span.instance = instance;
  if (kind === 'server') span.shared = true;
  const problem = validateSpan(span);
  return problem === undefined ? span : problem;
}
