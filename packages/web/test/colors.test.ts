/**
 * Service colours stay distinguishable: the palette's colours are far apart in CIELAB, and 20
 * services on one page get 20 colours no two of which are near-identical (names chosen so that
 * several share a hash slot).
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { PALETTE, resetServiceColors, serviceColor } from '../src/colors.js';

/** CSS `#rrggbb` or `hsl(h s% l%)` as sRGB 0..255. */
function rgb(css: string): [number, number, number] {
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(css);
  if (hex) return [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16), parseInt(hex[3]!, 16)];
  const hsl = /^hsl\((\d+(?:\.\d+)?)\s+(\d+)%\s+(\d+)%\)$/.exec(css);
  assert.ok(hsl, `unexpected colour ${css}`);
  const h = Number(hsl[1]), s = Number(hsl[2]) / 100, l = Number(hsl[3]) / 100;
  const f = (n: number): number => {
    const k = (n + h / 30) % 12;
    return 255 * (l - s * Math.min(l, 1 - l) * Math.max(-1, Math.min(k - 3, 9 - k, 1)));
  };
  return [f(0), f(8), f(4)];
}

function lab(css: string): [number, number, number] {
  const lin = (c: number): number => ((c /= 255) <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const [r, g, b] = rgb(css).map(lin) as [number, number, number];
  const x = (r * 0.4124 + g * 0.3576 + b * 0.1805) / 0.95047;
  const y = r * 0.2126 + g * 0.7152 + b * 0.0722;
  const z = (r * 0.0193 + g * 0.1192 + b * 0.9505) / 1.08883;
  const f = (t: number): number => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}

/** ΔE76: Euclidean distance in CIELAB. */
const deltaE = (a: string, b: string): number => {
  const p = lab(a), q = lab(b);
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
};

function minDistance(colors: readonly string[]): { d: number; pair: string } {
  let best = { d: Infinity, pair: '' };
  for (let i = 0; i < colors.length; i++) for (let j = i + 1; j < colors.length; j++) {
    const d = deltaE(colors[i]!, colors[j]!);
    if (d < best.d) best = { d, pair: `${colors[i]} / ${colors[j]}` };
  }
  return best;
}

/** Clearly different at a glance (2.3 is just noticeable; 20 is two different colours). */
const MIN_DELTA_E = 20;

describe('service colours', () => {
  beforeEach(() => resetServiceColors());

  it('the palette holds no two near-identical colours', () => {
    assert.ok(PALETTE.length >= 20);
    const { d, pair } = minDistance(PALETTE);
    assert.ok(d >= MIN_DELTA_E, `closest pair ${pair}: ΔE ${d.toFixed(1)}`);
  });

  it('20 services get 20 distinguishable colours, however their names hash', () => {
    const names = ['gateway', 'orders', 'inventory', 'payments', 'ledger', 'notify', 'merchant-api', 'sync-worker', 'shop-query', 'cart', 'checkout', 'search', 'auth', 'users', 'mailer', 'billing', 'catalog', 'shipping', 'reviews', 'recommendations'];
    const colors = names.map(serviceColor);
    assert.equal(new Set(colors).size, 20, 'no two services share a colour');
    const { d, pair } = minDistance(colors);
    assert.ok(d >= MIN_DELTA_E, `closest pair ${pair}: ΔE ${d.toFixed(1)}`);
  });

  it('a service keeps its colour; a lone service gets the colour its name hashes to', () => {
    const first = serviceColor('orders');
    serviceColor('payments');
    assert.equal(serviceColor('orders'), first);
    resetServiceColors();
    assert.equal(serviceColor('orders'), first, 'the same on the next page load when seen first');
  });

  it('past the palette, services still get a colour', () => {
    for (let i = 0; i < PALETTE.length + 5; i++) assert.match(serviceColor(`svc-${i}`), /^#[0-9a-f]{6}$/);
  });
});
