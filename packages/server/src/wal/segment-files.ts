/**
 * Segment files of the write-ahead log: `<dir>/<20-digit id>.wal`, ids increasing, so that name
 * order is log order. The checkpoint file records how far the store has confirmed.
 */
import { open, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const SEGMENT_RE = /^(\d{20})\.wal$/;
export const CHECKPOINT_FILE = 'checkpoint.json';

export function segmentPath(dir: string, id: number): string {
  return join(dir, `${String(id).padStart(20, '0')}.wal`);
}

/** Segment ids in the directory, ascending. */
export async function listSegments(dir: string): Promise<number[]> {
  const ids: number[] = [];
  for (const name of await readdir(dir)) {
    const m = SEGMENT_RE.exec(name);
    if (m !== null) ids.push(Number(m[1]));
  }
  return ids.sort((a, b) => a - b);
}

/** Everything up to `offset` in segment `segment` (and every earlier segment) is in the store. */
export interface Checkpoint {
  segment: number;
  offset: number;
}

/** The saved checkpoint, or undefined when there is none or it is unreadable (then all is replayed). */
export async function readCheckpoint(dir: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, CHECKPOINT_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as Partial<Checkpoint> | null;
    if (v !== null && Number.isSafeInteger(v.segment) && Number.isSafeInteger(v.offset) && (v.offset as number) >= 0) {
      return { segment: v.segment as number, offset: v.offset as number };
    }
  } catch {
    // a checkpoint torn by a crash: replaying from the start is the safe answer
  }
  return undefined;
}

/**
 * Replaces the checkpoint atomically (write, then rename). Not fsynced: a checkpoint lost in a crash
 * only means more records are replayed, and the store merges duplicates.
 */
export async function writeCheckpoint(dir: string, cp: Checkpoint): Promise<void> {
  const tmp = join(dir, `${CHECKPOINT_FILE}.tmp`);
  await writeFile(tmp, JSON.stringify(cp));
  await rename(tmp, join(dir, CHECKPOINT_FILE));
}

/** Makes a file creation or removal in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
