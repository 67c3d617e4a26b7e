/**
 * `linktrace trace`: a trace as a terminal waterfall. One row per hop, indented under its parent
 * (by parent span id, and by rpcid position where spans carry one), with a bar placed and scaled on
 * the trace's time line. A call's client and server halves (Zipkin shared spans, call-graph rows)
 * fold into one row `caller → callee`. Lost hops show as rows too: a missing rpcid position, or a
 * parent that several spans name but no span holds. Times are clock-skew corrected (marked `~`).
 */
import { compareRpcid, isValidRpcid, rpcidParent } from '@linktrace/model';
import { formatDurationUs } from '../query/duration-text.js';
import { formatTimeUs } from '../query/time-text.js';
import type { SpanJson, TraceView } from '../query/trace-view-types.js';

export interface WaterfallOptions {
  /** Total line width. Default 120. */
  width?: number;
  /** ANSI colours (errors red, lost hops dim). Default false. */
  color?: boolean;
}

interface Row {
  /** Span index (the row's main span); -1 for a lost hop. */
  span: number;
  /** The server half folded into this client row. */
  partner?: number;
  rpcid?: string;
  /** For lost hops: what is missing. */
  gap?: string;
  children: Row[];
  /** Sort key within the parent: the row's start time. */
  startUs: number;
}

const MAX_NAME = 48;
const MAX_SERVICE = 32;
const MAX_POSITION = 20;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function padLeft(text: string, width: number): string {
  return text.length >= width ? text : ' '.repeat(width - text.length) + text;
}

function compareRows(a: Row, b: Row): number {
  if (a.rpcid !== undefined && b.rpcid !== undefined && a.rpcid !== b.rpcid) return compareRpcid(a.rpcid, b.rpcid);
  return a.startUs - b.startUs;
}

function validRpcid(s: SpanJson): string | undefined {
  return isValidRpcid(s.rpcid) ? s.rpcid : undefined;
}

/** Builds the row tree: spans under their parents, shared halves folded, lost hops inserted. */
function buildRows(view: TraceView, starts: readonly number[]): Row[] {
  const spans = view.spans;
  const n = spans.length;
  const rowOf = new Array<Row | undefined>(n);
  // Fold a server half into its client half when parentIndexes made the client its parent.
  for (let i = 0; i < n; i++) {
    const s = spans[i]!;
    const p = view.parents[i] ?? -1;
    if (s.kind === 'server' && p >= 0 && spans[p]!.kind === 'client' && spans[p]!.spanId === s.spanId) continue;
    const row: Row = { span: i, children: [], startUs: starts[i]! };
    const rpcid = validRpcid(s);
    if (rpcid !== undefined) row.rpcid = rpcid;
    rowOf[i] = row;
  }
  for (let i = 0; i < n; i++) {
    if (rowOf[i] !== undefined) continue;
    const client = rowOf[view.parents[i]!]!;
    client.partner = i;
    client.rpcid ??= validRpcid(spans[i]!);
    rowOf[i] = client;
  }
  const orphan = new Set<number>();
  for (const mp of view.missingParents) for (const c of mp.children) orphan.add(c);
  // Rows without a parent row: real roots, orphans' stand-ins, spans known only by position.
  const loose: Row[] = [];
  for (let i = 0; i < n; i++) {
    const row = rowOf[i]!;
    if (row.span !== i) continue;
    const p = view.parents[i] ?? -1;
    if (p >= 0) rowOf[p]!.children.push(row);
    else if (!orphan.has(i)) loose.push(row);
  }

  // Each position's row, so that lost hops and position-only spans hang under their nearest ancestor.
  const rowAt = new Map<string, Row>();
  for (let i = 0; i < n; i++) {
    const rpcid = validRpcid(spans[i]!);
    if (rpcid !== undefined && !rowAt.has(rpcid)) rowAt.set(rpcid, rowOf[i]!);
  }
  const missing = new Set(view.positions.missing);
  for (const mp of view.missingParents) {
    const children = mp.children.map((c) => rowOf[c]!).filter((r, k, all) => all.indexOf(r) === k);
    // The children's common parent position, when they agree on one: that is where the lost hop was.
    const positions = new Set(children.map((r) => (r.rpcid === undefined ? undefined : rpcidParent(r.rpcid))));
    const only = positions.size === 1 ? [...positions][0] : undefined;
    const gap: Row = { span: -1, gap: `missing parent ${mp.spanId}`, children, startUs: Math.min(...children.map((r) => r.startUs)) };
    if (only !== undefined) {
      gap.rpcid = only;
      if (missing.delete(only)) gap.gap = `missing ${only}, span ${mp.spanId}`;
      if (!rowAt.has(only)) rowAt.set(only, gap);
    }
    loose.push(gap);
  }
  for (const rpcid of missing) {
    if (rowAt.has(rpcid)) continue;
    const gap: Row = { span: -1, rpcid, gap: `missing ${rpcid}`, children: [], startUs: Number.MAX_SAFE_INTEGER };
    rowAt.set(rpcid, gap);
    loose.push(gap);
  }
  const roots: Row[] = [];
  for (const row of loose) {
    let host: Row | undefined;
    for (let p = row.rpcid === undefined ? undefined : rpcidParent(row.rpcid); p !== undefined && host === undefined; p = rpcidParent(p)) {
      host = rowAt.get(p);
    }
    if (host !== undefined && host !== row) host.children.push(row);
    else roots.push(row);
  }
  // Spans caught in a parent cycle (bad data) are reached from no root: shown at the top level.
  const seen = new Set<Row>();
  const visit = (r: Row): void => {
    const stack = [r];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (seen.has(x)) continue;
      seen.add(x);
      for (const c of x.children) stack.push(c);
    }
  };
  roots.forEach(visit);
  for (let i = 0; i < n; i++) {
    const row = rowOf[i]!;
    if (!seen.has(row)) {
      roots.push(row);
      visit(row);
    }
  }
  return roots;
}

interface Line {
  depth: number;
  row: Row;
}

function flatten(roots: Row[]): Line[] {
  const out: Line[] = [];
  const seen = new Set<Row>();
  const stack: Line[] = [];
  const push = (rows: Row[], depth: number): void => {
    const sorted = [...rows].sort(compareRows);
    for (let k = sorted.length - 1; k >= 0; k--) stack.push({ depth, row: sorted[k]! });
  };
  push(roots, 0);
  while (stack.length > 0) {
    const line = stack.pop()!;
    if (seen.has(line.row)) continue;
    seen.add(line.row);
    out.push(line);
    push(line.row.children, line.depth + 1);
  }
  return out;
}

const RED = '\u001b[31m';
const DIM = '\u001b[2m';
const RESET = '\u001b[0m';

export function formatWaterfall(view: TraceView, opts: WaterfallOptions = {}): string {
  const width = Math.max(60, opts.width ?? 120);
  const spans = view.spans;
  const delta = new Array<number>(spans.length).fill(0);
  for (const m of view.clockSkew) delta[m.span] = m.deltaUs;
  const starts = spans.map((s, i) => s.startUs + delta[i]!);
  let t0 = Infinity;
  let t1 = -Infinity;
  spans.forEach((s, i) => {
    t0 = Math.min(t0, starts[i]!);
    t1 = Math.max(t1, starts[i]! + (s.durationUs ?? 0));
  });
  const total = Math.max(1, t1 - t0);
  const lines = flatten(buildRows(view, starts));

  const hasPositions = lines.some((l) => l.row.rpcid !== undefined);
  const label = (l: Line): string => {
    const indent = '  '.repeat(Math.min(l.depth, 20));
    const r = l.row;
    return indent + clip(r.span < 0 ? `(${r.gap})` : spans[r.span]!.name || '(no name)', MAX_NAME);
  };
  const service = (r: Row): string => {
    if (r.span < 0) return '';
    const s = spans[r.span]!;
    const text = r.partner !== undefined ? `${s.service} → ${spans[r.partner]!.service}` : s.service;
    return clip(text, MAX_SERVICE);
  };
  const posW = hasPositions ? Math.min(MAX_POSITION, Math.max(8, ...lines.map((l) => l.row.rpcid?.length ?? 0))) : 0;
  const nameW = Math.max(4, ...lines.map((l) => label(l).length));
  const serviceW = Math.max(7, ...lines.map((l) => service(l.row).length));
  const durW = 9;
  const fixed = (hasPositions ? posW + 1 : 0) + 2 + nameW + 1 + serviceW + 1 + durW + 1 + 2;
  const barW = Math.max(10, width - fixed - 14);

  const out: string[] = [];
  const skewed = view.clockSkew.length;
  const corrected = skewed > 0 && total !== Math.max(1, view.durationUs) ? ` (${formatDurationUs(total)} skew-corrected)` : '';
  out.push(
    `trace ${view.traceId}  ${view.spanCount} span${view.spanCount === 1 ? '' : 's'}  ${view.services.length} service${view.services.length === 1 ? '' : 's'}  ${formatDurationUs(view.durationUs)}${corrected}  start ${formatTimeUs(view.startUs)}`,
  );
  const notes: string[] = [];
  if (view.errorCount > 0) notes.push(`${view.errorCount} error${view.errorCount === 1 ? '' : 's'}`);
  if (view.positions.missing.length > 0) {
    const shown = view.positions.missing.slice(0, 10).join(', ');
    const more = view.positions.missing.length > 10 || view.positions.truncated ? ', …' : '';
    notes.push(`missing positions: ${shown}${more}`);
  }
  if (view.missingParents.length > 0) notes.push(`missing parents: ${view.missingParents.length}`);
  if (skewed > 0) notes.push(`clock skew corrected on ${skewed} span${skewed === 1 ? '' : 's'} (~)`);
  if (notes.length > 0) out.push(notes.join('  ·  '));
  out.push('');
  const head = (hasPositions ? pad('POSITION', posW) + ' ' : '') + '  ' + pad('NAME', nameW) + ' ' + pad('SERVICE', serviceW) + ' ' + padLeft('DURATION', durW) + ' ';
  out.push(head + ' ' + pad(`0${' '.repeat(Math.max(1, barW - 1 - formatDurationUs(total).length))}${formatDurationUs(total)}`, barW));

  for (const l of lines) {
    const r = l.row;
    const pos = hasPositions ? pad(clip(r.rpcid ?? '', posW), posW) + ' ' : '';
    if (r.span < 0) {
      const text = `${pos}  ${pad(label(l), nameW)} ${pad('', serviceW)} ${padLeft('-', durW)}  ${' '.repeat(barW)}`.trimEnd();
      out.push(opts.color === true ? `${DIM}${text}${RESET}` : text);
      continue;
    }
    const s = spans[r.span]!;
    const partner = r.partner === undefined ? undefined : spans[r.partner]!;
    const error = s.status.code === 'error' || partner?.status.code === 'error';
    const skew = delta[r.span] !== 0 || (r.partner !== undefined && delta[r.partner] !== 0);
    const start = starts[r.span]!;
    // Only a start record is unfinished; a Zipkin span without duration ended, length unknown.
    const unfinished = s.durationUs === undefined && s.durationUnknown !== true;
    const dur = s.durationUs ?? 0;
    const from = Math.min(barW - 1, Math.floor(((start - t0) / total) * barW));
    const len = unfinished ? barW - from : Math.max(1, Math.min(barW - from, Math.round((dur / total) * barW)));
    const bar = ' '.repeat(from) + (unfinished ? '░' : error ? '▒' : '█').repeat(len) + ' '.repeat(barW - from - len);
    const marks = (error ? '!' : ' ') + (skew ? '~' : ' ');
    const durText = unfinished ? 'started' : s.durationUs === undefined ? '?' : formatDurationUs(dur);
    const flags: string[] = [];
    if (error) {
      const msg = s.status.code === 'error' ? s.status.message : partner?.status.message;
      flags.push(msg ? `error: ${clip(msg, 60)}` : 'error');
    }
    if (unfinished) flags.push('unfinished');
    if (s.startUnknown === true) flags.push('start unknown');
    const text = `${pos}${marks}${pad(label(l), nameW)} ${pad(service(r), serviceW)} ${padLeft(durText, durW)} |${bar}| ${flags.join(' ')}`.trimEnd();
    out.push(opts.color === true && error ? `${RED}${text}${RESET}` : text);
  }
  return out.join('\n') + '\n';
}
