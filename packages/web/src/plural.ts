/**
 * A count with its noun, singular for exactly one: "1 span", "2 spans", "0 findings". The one helper
 * every page words its counts with, so no page says "1 spans".
 */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;
}
