/**
 * What `linktrace import` shows: a progress bar on stderr while it works when stderr is a terminal
 * (nothing while it works otherwise, so logs stay clean), then one summary line on stdout and the
 * first problems, with their file and line, on stderr.
 */
import cliProgress from 'cli-progress';
import type { ImportProgress, ImportState, ImportSummary } from '../import/import-run.js';
import { formatDurationUs } from '../query/duration-text.js';
import type { OutputStream } from './cli-io.js';

/** `1.5 MB`: decimal units, as file managers show sizes. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function formatImportSummary(s: ImportSummary): string {
  const parts = [`imported ${plural(s.spans, 'span')} from ${plural(s.files, 'file')} (${formatBytes(s.bytes)}) into ${s.target} in ${formatDurationUs(s.elapsedMs * 1000)}`];
  parts.push(plural(s.bad, 'bad line'));
  if (s.rejected > 0) parts.push(`${plural(s.rejected, 'span')} rejected`);
  if (s.skippedFiles > 0) parts.push(`${plural(s.skippedFiles, 'file')} skipped`);
  return `${parts.join(', ')}\n`;
}

/** The kept issues, one per line (`file:line: message`), with a note when more were counted. */
export function formatImportIssues(s: ImportSummary): string {
  if (s.issues.length === 0) return '';
  const lines = s.issues.map((i) => `  ${i.file}${i.line === undefined ? '' : `:${i.line}`}: ${i.message}`);
  const total = s.bad + s.rejected + s.skippedFiles;
  const header = total > s.issues.length ? `first ${s.issues.length} problems:` : 'problems:';
  return `${header}\n${lines.join('\n')}\n`;
}

/** A cli-progress bar over the bytes read, with span and bad-line counts. */
export function progressBar(stream: OutputStream): ImportProgress {
  const bar = new cliProgress.SingleBar(
    {
      stream: stream as NodeJS.WritableStream,
      format: 'importing [{bar}] {percentage}% | {done}/{size} | {spans} spans | {bad} bad | {file}',
      hideCursor: true,
      barsize: 30,
      clearOnComplete: true,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const payload = (st: Pick<ImportState, 'bytesDone' | 'spans' | 'bad' | 'file'>, total: number): Record<string, string | number> => ({
    done: formatBytes(st.bytesDone),
    size: formatBytes(total),
    spans: st.spans,
    bad: st.bad,
    file: st.file.length > 40 ? `…${st.file.slice(-39)}` : st.file,
  });
  let total = 0;
  return {
    start(totalBytes) {
      total = totalBytes;
      bar.start(Math.max(1, totalBytes), 0, payload({ bytesDone: 0, spans: 0, bad: 0, file: '' }, total));
    },
    update(st) {
      bar.update(Math.min(st.bytesDone, Math.max(1, total)), payload(st, total));
    },
    stop() {
      bar.stop();
    },
  };
}
