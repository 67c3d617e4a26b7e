/**
 * Search windows (issue 12: reads stay fast). A search wants the `limit` traces whose newest
 * matching span is the newest. Run with `start_us >= T` added, if it finds `limit` traces, those
 * are the answer: a trace it found has its newest matching span at T or later (in the window), a
 * trace it did not find has none, so every one found ranks above every one not found. So a search
 * runs first over a window holding about `first` spans (the newest row groups by their `start_us`
 * statistics), then 4× wider windows, then without a window, stopping as soon as `limit` traces
 * are found. DuckDB skips the files and row groups whose `start_us` ends before T (their min/max),
 * so a search for recent traces reads a row group or two of each column, not whole files (files
 * are sorted by trace id, and our trace ids begin with their start time, so a file's row groups
 * follow time).
 */

/** What a window needs to know of a row group: its start times (undefined: unknown) and its rows. */
export interface StartGroup {
  startMin: number | undefined;
  startMax: number | undefined;
  rows: number;
}

/**
 * The cutoffs T of a search's windows, latest first: the first window holds the row groups of the
 * newest spans, about `first` spans, whole (T is the earliest start among them); each next one
 * about 4× more; none at or before `floor` (the query's own start: a window there is the whole
 * search) and none that leaves no row group out (that is the last round, without a window).
 */
export function searchCutoffs(groups: readonly StartGroup[], first: number, floor = -Infinity): Cutoff[] {
  // A group of unknown start is in every window (nothing prunes it): it counts first.
  const sorted = [...groups].sort((a, b) => (b.startMax ?? Infinity) - (a.startMax ?? Infinity));
  const out: Cutoff[] = [];
  let rows = 0;
  let target = Math.max(1, first);
  let cut = Infinity;
  for (let i = 0; i < sorted.length - 1; i++) {
    rows += sorted[i]!.rows;
    cut = Math.min(cut, sorted[i]!.startMin ?? Infinity);
    if (rows < target) continue;
    while (rows >= target) target *= 4;
    if (cut === Infinity || cut <= floor) continue;
    // Spans starting at `cut` or later: at least these groups' rows, and those of any group starting later.
    const held = sorted.reduce((n, g) => n + ((g.startMax ?? Infinity) >= cut ? g.rows : 0), 0);
    if (out.length === 0 || cut < out[out.length - 1]!.cut) out.push({ cut, rows: held });
  }
  // A cutoff before which no group ends keeps nothing out.
  return out.filter(({ cut }) => sorted.some((g) => g.startMax !== undefined && g.startMax < cut));
}

/** A window: spans starting at `cut` or later, about `rows` of them (the row groups it reads). */
export interface Cutoff {
  cut: number;
  rows: number;
}

/**
 * The spans the next window should hold after windows of `rows` spans found `hits` of the `limit`
 * traces wanted: as many more as the hits so far say (twice that, matches are uneven over time);
 * Infinity when none was found (rare matches: the whole search at once, not window after window).
 */
export function nextWindowRows(rows: number, hits: number, limit: number): number {
  if (hits === 0) return Infinity;
  return (rows * limit * 2) / hits;
}
