/** One stable colour per service name, so a service looks the same on every page. */
const cache = new Map<string, string>();

export function serviceColor(service: string): string {
  let c = cache.get(service);
  if (c === undefined) {
    let h = 2166136261;
    for (let i = 0; i < service.length; i++) h = Math.imul(h ^ service.charCodeAt(i), 16777619);
    // Hues spread by the golden angle; saturation and lightness keep text on top readable.
    const hue = ((h >>> 0) * 137.508) % 360;
    c = `hsl(${hue.toFixed(0)} 55% 48%)`;
    cache.set(service, c);
  }
  return c;
}
