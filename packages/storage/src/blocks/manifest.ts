/**
 * Which block files hold the store's spans. The manifest is the only truth: a file in the blocks
 * directory that it does not list (a micro-block whose write never completed, a compaction output
 * whose swap never happened, inputs a swap replaced) is left over from a crash and removed at open.
 * It is replaced atomically (written aside, fsynced, renamed), so after a crash it is either the
 * old list or the new one: a compaction's inputs and output are never both live.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDurably } from './parquet-file.js';

export const MANIFEST_FILE = 'manifest.json';

export interface BlockFile {
  /** File name inside the blocks directory. */
  name: string;
  rows: number;
  /** Its size on disk, with its trace summaries file when it has one. */
  bytes: number;
  /** 0: a micro-block (one write batch); 1: a compacted or rewritten file. */
  level: 0 | 1;
  /** Smallest / largest 32-hex trace key. */
  minKey: string;
  maxKey: string;
  /** Arrival times (µs) of its records: retention drops, keeps or rewrites the file by them. */
  minArrived: number;
  maxArrived: number;
  /** Latest span start (µs) it holds: a search reads the files newest first (absent in older manifests: read first). */
  maxStart?: number;
  /** Micro-block numbers its rows were written in (see tombstones.ts). */
  minBseq: number;
  maxBseq: number;
  /** Attribute slot columns `a0…` it has. */
  slots: number;
  /** Tombstones up to this number are already applied to it (no row they cover is in it). */
  tombApplied: number;
  /**
   * 2: a parent in the same file and trace is a position (`pdelta`: rows back to its first row),
   * `pid` holds only the other parents' ids. Absent: format 1 (manifest version 1), `pid` on every
   * row and no `pdelta` column; still read, rewritten as format 2 by compaction.
   */
  format?: 2;
  /**
   * Its trace summaries are in `<name>.traces.parquet` (block-copy.ts), written and fsynced before
   * the manifest named it. Absent: micro-blocks and files of older manifests (searches compute
   * their hits' summaries from the records).
   */
  traces?: true;
  /**
   * The attribute keys (unescaped, sorted) its rows' `rest` lists hold, at most REST_KEYS_LIMIT: a
   * search for a key not in it skips the `rest` test on this file (a promoted key's early rows keep
   * it in `rest`; files written after its promotion never do). Absent: not known (older manifests,
   * too many keys), the file's `rest` is tested for every key.
   */
  restKeys?: string[];
}

/** Past this many distinct `rest` keys a file's set is not kept (its `rest` is then always tested). */
export const REST_KEYS_LIMIT = 256;

/** `keys` as a file's `restKeys` (sorted), or undefined past REST_KEYS_LIMIT. */
export function restKeySet(keys: Iterable<string>): string[] | undefined {
  const list = [...new Set(keys)];
  return list.length > REST_KEYS_LIMIT ? undefined : list.sort();
}

/**
 * The `restKeys` of a file made of the rows of `inputs` (compaction, a retention rewrite): the
 * union of theirs (a superset when rows were dropped, which only costs a test), or undefined when
 * one of them does not know its own.
 */
export function mergedRestKeys(inputs: readonly BlockFile[]): string[] | undefined {
  const keys: string[] = [];
  for (const f of inputs) {
    if (f.restKeys === undefined) return undefined;
    keys.push(...f.restKeys);
  }
  return restKeySet(keys);
}

/** Whether file `f`'s `rest` lists may hold `key` (unescaped). */
export function restMayHold(f: BlockFile, key: string): boolean {
  return f.restKeys === undefined || f.restKeys.includes(key);
}

export interface ManifestState {
  /** 2 since files of format 2 (the earlier version 1 is read and written back as 2). */
  version: 1 | 2;
  /** Next micro-block / file number (never reused: a name is never read with two contents). */
  nextSeq: number;
  files: BlockFile[];
}

export async function loadManifest(dir: string): Promise<ManifestState> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 2, nextSeq: 1, files: [] };
    throw err;
  }
  const state = JSON.parse(text) as ManifestState;
  if ((state.version !== 1 && state.version !== 2) || !Array.isArray(state.files)) throw new Error(`block store: ${join(dir, MANIFEST_FILE)} is not a manifest this version reads`);
  // Saved as version 2 from now on: a build that knows only version 1 (and would read format-2
  // parent positions as missing parents) refuses the directory instead.
  state.version = 2;
  return state;
}

export async function saveManifest(dir: string, state: ManifestState): Promise<void> {
  await writeDurably(join(dir, MANIFEST_FILE), Buffer.from(JSON.stringify(state)));
}
