/**
 * One colour per service, distinct from every other service's on screen. A hash of the name alone
 * gives two services near-identical hues all too often (20 services on a 360° wheel collide), so a
 * service takes its hash's slot in a fixed palette of well-separated colours, or, when a service
 * seen earlier in this page's life holds that slot, the next free one. The first PALETTE.length
 * services seen are all distinct; a service keeps its colour for the page's life, on every page.
 */

/**
 * 24 colours picked greedily farthest-apart in CIELAB (every pair ΔE76 ≥ 24; a just-noticeable
 * difference is about 2.3), at lightness 45–70 and chroma 35–75: no greys (placeholders are grey),
 * nothing too dark or pale to see on the light and the dark theme alike.
 */
export const PALETTE: readonly string[] = [
  '#2d69d2', '#a5b400', '#d21e3c', '#00b4a5', '#ff69d2', '#d29669', '#1ec35a', '#2db4f0',
  '#5a783c', '#b45a78', '#d26900', '#c396e1', '#964bc3', '#967800', '#e11e78', '#4b8700',
  '#ff8787', '#5a78b4', '#00965a', '#b44b2d', '#96b45a', '#a54b96', '#f087c3', '#d2a500',
];

const assigned = new Map<string, string>();
const taken = new Set<number>();

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function serviceColor(service: string): string {
  let c = assigned.get(service);
  if (c !== undefined) return c;
  const n = PALETTE.length;
  const home = hash(service) % n;
  let slot = home;
  // Once every slot is taken, later services share their home slot's colour.
  if (taken.size < n) while (taken.has(slot)) slot = (slot + 1) % n;
  taken.add(slot);
  c = PALETTE[slot]!;
  assigned.set(service, c);
  return c;
}

/** Forgets every assignment (tests). */
export function resetServiceColors(): void {
  assigned.clear();
  taken.clear();
}
