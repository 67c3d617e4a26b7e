/** Small helpers shared by the benchmarks: robust summaries and the output contract. */

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** Prints rows as an aligned table. */
export function printTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): void {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  for (const [n, row] of cells.entries()) {
    console.log(row.map((c, i) => String(c).padStart(i === 0 ? 0 : widths[i]!).padEnd(i === 0 ? widths[i]! : 0)).join('  '));
    if (n === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** The benchmark contract (DESIGN §5): the last line of output is one JSON object of figures. */
export function printResult(result: Record<string, number | string | boolean>): void {
  console.log(JSON.stringify(result));
}

/** A positive whole number from the environment (`_` allowed as a digit separator), else `fallback`. */
export function envInt(name: string, fallback: number): number {
  const text = process.env[name];
  const n = text === undefined || text.trim() === '' ? fallback : Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name}: "${text}" is not a positive whole number`);
  return n;
}
