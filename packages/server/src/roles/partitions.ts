/**
 * Spans are partitioned by trace id so that one checker sees whole traces (DESIGN §8): a batch is
 * split into one message per partition it touches. The hash is FNV-1a over the id's characters:
 * stable across processes and versions (it must never change while a stream holds messages), and
 * it spreads time-prefixed Linktrace ids as well as random ones (every character counts).
 */
import type { Span } from '@linktrace/model';
import { ConfigError } from '../config.js';

export const DEFAULT_PARTITIONS = 16;
export const MAX_PARTITIONS = 1024;

export function partitionOf(traceId: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < traceId.length; i++) {
    h ^= traceId.charCodeAt(i) | 0x20; // hex ids compare case-insensitively
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

/** The spans of a batch by partition, each in the batch's order. */
export function splitByPartition(spans: readonly Span[], partitions: number): Map<number, Span[]> {
  const out = new Map<number, Span[]>();
  for (const s of spans) {
    const p = partitionOf(s.traceId, partitions);
    const list = out.get(p);
    if (list === undefined) out.set(p, [s]);
    else list.push(s);
  }
  return out;
}

/** `--partition i/N`: this checker is the i-th of N (0-based); it owns every partition p with p % N = i. */
export interface PartitionShare {
  index: number;
  of: number;
}

export function parsePartitionShare(text: string, flag = '--partition'): PartitionShare {
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(text.trim());
  if (m === null) throw new ConfigError(`${flag}: "${text}" is not i/N (this checker's index, from 0, and the number of checkers), e.g. 0/2`);
  const index = Number(m[1]);
  const of = Number(m[2]);
  if (of < 1 || of > MAX_PARTITIONS) throw new ConfigError(`${flag}: N must be 1 to ${MAX_PARTITIONS}`);
  if (index >= of) throw new ConfigError(`${flag}: the index ${index} must be less than N (${of})`);
  return { index, of };
}

/** The partitions a checker owns; empty when there are fewer partitions than checkers and this one is spare. */
export function ownedPartitions(share: PartitionShare, partitions: number): number[] {
  const owned: number[] = [];
  for (let p = share.index; p < partitions; p += share.of) owned.push(p);
  return owned;
}
