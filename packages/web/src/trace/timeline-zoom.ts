/**
 * Timeline zoom: the part of the trace's time the waterfall shows. Pure helpers; the drag that
 * chooses a window is `drag-range.tsx`, the overview of the whole trace `minimap.tsx`.
 */
export interface TimeWindow {
  startUs: number;
  endUs: number;
}

/** A drag narrower than this share of its strip is a click, not a zoom. */
export const MIN_DRAG_FRACTION = 0.004;
/** The narrowest window, µs: below a microsecond the bars say nothing more. */
const MIN_WINDOW_US = 1;

/** The window between two fractions (either order) of `base`; undefined for a drag too small to mean one. */
export function windowBetween(base: TimeWindow, a: number, b: number): TimeWindow | undefined {
  const lo = Math.max(0, Math.min(a, b));
  const hi = Math.min(1, Math.max(a, b));
  if (hi - lo < MIN_DRAG_FRACTION) return undefined;
  const span = base.endUs - base.startUs;
  const startUs = base.startUs + lo * span;
  return { startUs, endUs: Math.max(startUs + MIN_WINDOW_US, base.startUs + hi * span) };
}

/** `inner` as fractions of `outer`, clamped to [0, 1]: where the minimap draws the window. */
export function fractionsOf(outer: TimeWindow, inner: TimeWindow): { left: number; width: number } {
  const span = Math.max(1, outer.endUs - outer.startUs);
  const left = Math.min(1, Math.max(0, (inner.startUs - outer.startUs) / span));
  const right = Math.min(1, Math.max(left, (inner.endUs - outer.startUs) / span));
  return { left, width: right - left };
}
