/** `linktrace search` output: one row per matching trace, newest first. */
import type { TraceSummary } from '@linktrace/storage';
import { formatDurationUs } from '../query/duration-text.js';
import { formatTimeUs } from '../query/time-text.js';

const MAX_ROOT = 60;

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function padLeft(text: string, width: number): string {
  return text.length >= width ? text : ' '.repeat(width - text.length) + text;
}

function rootText(t: TraceSummary): string {
  const text = t.root === undefined ? '(no root span)' : `${t.root.service}: ${t.root.name}`;
  return text.length <= MAX_ROOT ? text : `${text.slice(0, MAX_ROOT - 1)}…`;
}

export function formatSearchTable(traces: readonly TraceSummary[]): string {
  if (traces.length === 0) return 'no traces found\n';
  const idW = Math.max(8, ...traces.map((t) => t.traceId.length));
  const rows = traces.map((t) => [
    pad(t.traceId, idW),
    pad(formatTimeUs(t.startUs), 24),
    padLeft(formatDurationUs(t.durationUs), 9),
    padLeft(String(t.spanCount), 6),
    padLeft(String(t.errorCount), 6),
    padLeft(String(t.services.length), 8),
    rootText(t),
  ]);
  const head = [pad('TRACE ID', idW), pad('START (UTC)', 24), padLeft('DURATION', 9), padLeft('SPANS', 6), padLeft('ERRORS', 6), padLeft('SERVICES', 8), 'ROOT'];
  const lines = [head, ...rows].map((cols) => cols.join('  ').trimEnd());
  lines.push(`${traces.length} trace${traces.length === 1 ? '' : 's'}`);
  return lines.join('\n') + '\n';
}
