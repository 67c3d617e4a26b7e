/**
 * `linktrace trace`: a trace as a terminal waterfall. It draws the rows the trace view carries
 * (analysis `assembleTrace`, the same rows the UI draws) and builds no tree of its own: one line per
 * row, indented by its depth, with a bar placed and scaled on the trace's time line. A call's folded
 * halves show as `caller → callee`; lost hops and gaps of missing positions are rows of their own.
 * Times are clock-skew corrected (marked `~`).
 */
import type { TraceRow } from '@linktrace/analysis';
import { formatDurationUs } from '../query/duration-text.js';
import { formatTimeUs } from '../query/time-text.js';
import type { TraceView } from '../query/trace-view-types.js';

export interface WaterfallOptions {
  /** Total line width. Default 120. */
  width?: number;
  /** ANSI colours (errors red, lost hops dim). Default false. */
  color?: boolean;
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

const RED = '\u001b[31m';
const DIM = '\u001b[2m';
const RESET = '\u001b[0m';

const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

export function formatWaterfall(view: TraceView, opts: WaterfallOptions = {}): string {
  const width = Math.max(60, opts.width ?? 120);
  const spans = view.spans;
  const rows = view.rows;
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const r of rows) {
    if (r.kind !== 'span') continue;
    t0 = Math.min(t0, r.startUs);
    t1 = Math.max(t1, r.startUs + (r.durationUs ?? 0));
  }
  const total = Math.max(1, t1 - t0);

  const hasPositions = rows.some((r) => r.rpcid !== undefined);
  const label = (r: TraceRow): string => {
    const indent = '  '.repeat(Math.min(r.depth, 20));
    return indent + clip(r.kind === 'span' ? spans[r.span]!.name || '(no name)' : `(${r.text})`, r.kind === 'span' ? MAX_NAME : MAX_NAME * 2);
  };
  const service = (r: TraceRow): string => {
    if (r.kind !== 'span') return '';
    const s = spans[r.span]!;
    const text = r.partner !== undefined ? `${s.service} → ${spans[r.partner]!.service}` : s.service;
    return clip(text, MAX_SERVICE);
  };
  const posW = hasPositions ? Math.min(MAX_POSITION, Math.max(8, ...rows.map((r) => r.rpcid?.length ?? 0))) : 0;
  const nameW = Math.max(4, ...rows.map((r) => (r.kind === 'span' ? label(r).length : 0)));
  const serviceW = Math.max(7, ...rows.map((r) => service(r).length));
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
  if (view.errorCount > 0) notes.push(plural(view.errorCount, 'error'));
  if (view.gaps.lostHops > 0) notes.push(plural(view.gaps.lostHops, 'lost hop'));
  if (view.gaps.gaps > 0) notes.push(`${plural(view.gaps.gapPositions, 'missing position')} in ${plural(view.gaps.gaps, 'gap')}`);
  if (skewed > 0) notes.push(`clock skew corrected on ${plural(skewed, 'span')} (~)`);
  if (notes.length > 0) out.push(notes.join('  ·  '));
  out.push('');
  const head = (hasPositions ? pad('POSITION', posW) + ' ' : '') + '  ' + pad('NAME', nameW) + ' ' + pad('SERVICE', serviceW) + ' ' + padLeft('DURATION', durW) + ' ';
  out.push(head + ' ' + pad(`0${' '.repeat(Math.max(1, barW - 1 - formatDurationUs(total).length))}${formatDurationUs(total)}`, barW));

  for (const r of rows) {
    const pos = hasPositions ? pad(clip(r.rpcid ?? '', posW), posW) + ' ' : '';
    if (r.kind !== 'span') {
      // Placeholders are text only: no service, time or bar, so their label may run past the name column.
      const text = `${pos}  ${label(r)}`.trimEnd();
      out.push(opts.color === true ? `${DIM}${text}${RESET}` : text);
      continue;
    }
    const s = spans[r.span]!;
    const partner = r.partner === undefined ? undefined : spans[r.partner]!;
    const error = s.status.code === 'error' || partner?.status.code === 'error';
    // Only a start record is unfinished; a Zipkin span without duration ended, length unknown.
    const lengthUnknown = s.durationUnknown === true && (partner === undefined || partner.durationUnknown === true);
    const unfinished = r.durationUs === undefined && !lengthUnknown;
    const dur = r.durationUs ?? 0;
    const from = Math.min(barW - 1, Math.floor(((r.startUs - t0) / total) * barW));
    const len = unfinished ? barW - from : Math.max(1, Math.min(barW - from, Math.round((dur / total) * barW)));
    const bar = ' '.repeat(from) + (unfinished ? '░' : error ? '▒' : '█').repeat(len) + ' '.repeat(barW - from - len);
    const marks = (error ? '!' : ' ') + (r.skewed === true ? '~' : ' ');
    const durText = unfinished ? 'started' : r.durationUs === undefined ? '?' : formatDurationUs(dur);
    const flags: string[] = [];
    if (error) {
      const msg = s.status.code === 'error' ? s.status.message : partner?.status.message;
      flags.push(msg ? `error: ${clip(msg, 60)}` : 'error');
    }
    if (unfinished) flags.push('unfinished');
    // A folded call: the caller's time is the row's, the server half's own time follows.
    if (partner !== undefined && r.partnerDurationUs !== undefined) flags.push(`server ${formatDurationUs(r.partnerDurationUs)}`);
    if (s.startUnknown === true && (partner === undefined || partner.startUnknown === true)) flags.push('start unknown');
    const text = `${pos}${marks}${pad(label(r), nameW)} ${pad(service(r), serviceW)} ${padLeft(durText, durW)} |${bar}| ${flags.join(' ')}`.trimEnd();
    out.push(opts.color === true && error ? `${RED}${text}${RESET}` : text);
  }
  return out.join('\n') + '\n';
}
