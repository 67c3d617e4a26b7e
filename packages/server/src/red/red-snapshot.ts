/**
 * Persistence of the RED cells: the whole 24 h is rewritten to `<dataDir>/red/cells.json` (written
 * to a temporary file, then renamed, so a crash leaves the old or the new file, never half of one)
 * every minute and when the app closes, and read back at start. A crash loses at most the last
 * minute's counts; an unreadable file is named in the log and RED starts empty.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DurationHistogram } from './duration-histogram.js';
import type { RedAggregator, RedSeries } from './red-aggregator.js';

type CellJson = [minute: number, count: number, errors: number, buckets: number[]];
interface SnapshotJson {
  version: 1;
  services: [service: string, cells: CellJson[], operations: [operation: string, cells: CellJson[]][]][];
  edges: [key: string, cells: CellJson[]][];
}

const cellsJson = (s: RedSeries): CellJson[] => [...s.cells].map(([m, c]) => [m, c.count, c.errors, c.hist.toPairs()]);

function fill(series: RedSeries, cells: unknown): void {
  if (!Array.isArray(cells)) return;
  for (const c of cells as unknown[]) {
    if (!Array.isArray(c) || c.length !== 4) continue;
    const [m, count, errors, pairs] = c as unknown[];
    if (!Number.isSafeInteger(m) || !Number.isSafeInteger(count) || !Number.isSafeInteger(errors) || !Array.isArray(pairs)) continue;
    series.setCell(m as number, { count: count as number, errors: errors as number, hist: DurationHistogram.fromPairs(pairs as number[]) });
  }
}

export function redFile(dataDir: string): string {
  return join(dataDir, 'red', 'cells.json');
}

export async function saveRed(dataDir: string, red: RedAggregator): Promise<void> {
  // Serialised one service (or 100 edges) at a time, yielding between them: the whole 24 h takes
  // ~0.5 s of CPU, which must not stall ingest and queries in one block.
  const services: string[] = [];
  for (const [name, entry] of [...red.services]) {
    services.push(JSON.stringify([name, cellsJson(entry.all), [...entry.operations].map(([op, s]) => [op, cellsJson(s)])]));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const edges: string[] = [];
  let n = 0;
  for (const [key, s] of [...red.edges]) {
    edges.push(JSON.stringify([key, cellsJson(s)]));
    if (++n % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const file = redFile(dataDir);
  await mkdir(join(dataDir, 'red'), { recursive: true });
  await writeFile(`${file}.tmp`, `{"version":1,"services":[${services.join(',')}],"edges":[${edges.join(',')}]}`);
  await rename(`${file}.tmp`, file);
}

/** Loads a saved snapshot into an empty aggregator; returns what went wrong, if anything. */
export async function loadRed(dataDir: string, red: RedAggregator): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(redFile(dataDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return `RED metrics: ${redFile(dataDir)} could not be read (${(error as Error).message}); starting empty`;
  }
  let json: SnapshotJson;
  try {
    json = JSON.parse(text) as SnapshotJson;
    if (json.version !== 1 || !Array.isArray(json.services) || !Array.isArray(json.edges)) throw new Error('not a version 1 RED snapshot');
  } catch (error) {
    return `RED metrics: ${redFile(dataDir)} is damaged (${(error as Error).message}); starting empty`;
  }
  for (const row of json.services) {
    if (!Array.isArray(row) || typeof row[0] !== 'string') continue;
    const entry = red.serviceSeries(row[0]);
    fill(entry.all, row[1]);
    for (const op of Array.isArray(row[2]) ? row[2] : []) {
      if (Array.isArray(op) && typeof op[0] === 'string') fill(red.operationSeries(entry, op[0]), op[1]);
    }
  }
  for (const row of json.edges) {
    if (!Array.isArray(row) || typeof row[0] !== 'string') continue;
    fill(red.edgeSeries(row[0]), row[1]);
  }
  return undefined;
}
