/**
 * Splits the server's CPU by who spent it, from `perf record -g -p <server pid>` samples (issue 12:
 * /proc names most threads "node", so ingest-threads.ts can only say "other threads"). Each sample
 * of `perf script` is put in one group by its thread and the native frames of its stack: the main
 * (JavaScript) thread; V8's helpers (concurrent marking, parallel scavenge, sweeping, concurrent
 * compilation); DuckDB; zlib; file writes and fsync; the rest. JIT frames have no symbols without
 * `--perf-basic-prof`, which is why the groups are by native frames.
 *
 *   perf record -F 499 -g -p <pid> -o perf.data -- sleep 60
 *   perf script -i perf.data > samples.txt
 *   node bench/dist/src/perf-threads.js samples.txt <pid> [server CPU µs/span]
 *
 * `perf record -p` follows the threads that exist when it attaches: attach after the server has
 * printed its listening line, or the samples hold the main thread only.
 */
import { readFileSync } from 'node:fs';

/** Groups in the order they are tested: the first whose pattern matches a sample's frames wins. */
const GROUPS: readonly [string, RegExp][] = [
  ['V8 concurrent marking (old generation)', /ConcurrentMarking|MarkingVisitor|MarkCompactCollector::Mark|Marking/],
  ['V8 scavenge helpers (young generation)', /Scaveng/],
  ['V8 sweeping', /Sweep/],
  ['V8 JIT compilation (TurboFan, Maglev)', /Compile|Turbofan|compiler::|Maglev/],
  ['V8 other (evacuation, heap upkeep)', /v8::internal::/],
  ['DuckDB', /libduckdb/],
  ['zlib (gunzip)', /inflate|zlib|Zlib/],
  ['file writes and fsync', /fsync|fdatasync|ext4_sync|jbd2|file_write|vfs_write|ksys_write|pwrite|uv__fs_write/],
  ['other file system calls', /uv__fs|vfs_read|ksys_read|openat|statx|unlink/],
  ['thread wake-ups (futex, scheduler)', /futex|schedule|sem_post|sem_wait|pthread_cond/],
  ['memset, memcpy, page faults (owner unknown)', /memset|memcpy|memmove|malloc|free|page_fault/],
];

export const MAIN_THREAD = 'main thread (JavaScript, its GC pauses included)';

/** Samples per group of `perf script` text (`pid` the process, whose own thread is its main thread). */
export function splitPerfSamples(text: string, pid: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const sample of text.split(/\n\s*\n/)) {
    const lines = sample.split('\n').filter((l) => l.trim() !== '');
    const header = lines[0]?.trim().split(/\s+/);
    // The header is "comm tid time: period event:"; comm may be ":tid" when the thread has no name.
    const tid = header === undefined ? NaN : Number(header[1]);
    if (!Number.isInteger(tid)) continue;
    const frames = lines.slice(1).join('\n');
    const group = tid === pid ? MAIN_THREAD : (GROUPS.find(([, re]) => re.test(frames))?.[0] ?? 'other (kernel, locks)');
    counts.set(group, (counts.get(group) ?? 0) + 1);
  }
  return counts;
}

function main(): void {
  const [file, pidArg, usArg] = process.argv.slice(2);
  if (file === undefined || pidArg === undefined) {
    console.error('usage: perf-threads.js <perf script output> <server pid> [server CPU µs/span]');
    process.exit(2);
  }
  const counts = [...splitPerfSamples(readFileSync(file, 'utf8'), Number(pidArg))].sort((a, b) => b[1] - a[1]);
  const total = counts.reduce((n, [, c]) => n + c, 0);
  const us = usArg === undefined ? undefined : Number(usArg);
  console.log(`${'group'.padEnd(50)} samples  share${us === undefined ? '' : '  µs/span'}`);
  for (const [group, n] of counts) {
    const share = n / total;
    console.log(`${group.padEnd(50)} ${String(n).padStart(7)}  ${(100 * share).toFixed(1).padStart(4)}%${us === undefined ? '' : (share * us).toFixed(1).padStart(9)}`);
  }
  console.log(`${'total'.padEnd(50)} ${String(total).padStart(7)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
