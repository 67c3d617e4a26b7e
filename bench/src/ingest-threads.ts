/**
 * CPU time of each thread of a process, from Linux's /proc/<pid>/task/<tid>/stat: the coarse
 * profile of the server during ingest (its JavaScript thread against DuckDB's worker threads, the
 * libuv pool doing fsync and gunzip, V8's GC helpers). Elsewhere it reports nothing.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

export interface ThreadCpu {
  tid: number;
  name: string;
  /** user + system seconds since the thread started. */
  seconds: number;
}

/** Every thread of `pid` with its CPU seconds; `[]` when /proc cannot be read. */
export function threadCpu(pid: number): ThreadCpu[] {
  const hz = clockTicks();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: ThreadCpu[] = [];
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // "tid (name) state ppid …": the name may hold spaces, so fields are counted after the last ')'.
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 once pid and name are cut off.
      out.push({ tid: Number(tid), name, seconds: (Number(fields[11]) + Number(fields[12])) / hz });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/**
 * CPU seconds spent between two readings, grouped: the main (JavaScript) thread on its own, the
 * other threads by name. Node names few of its threads, so most land in one group named like the
 * process: DuckDB's queries (run on libuv's pool) and its own workers, and V8's GC helpers alike.
 * Sorted by time, largest first.
 */
export function cpuBetween(pid: number, before: readonly ThreadCpu[], after: readonly ThreadCpu[]): [string, number][] {
  const start = new Map(before.map((t) => [t.tid, t.seconds]));
  const main = after.find((t) => t.tid === pid);
  const groups = new Map<string, number>();
  for (const t of after) {
    let group = t.name;
    if (t.tid === pid) group = 'main (JavaScript)';
    else if (main !== undefined && t.name === main.name) group = 'other threads (DuckDB, libuv pool, V8 GC helpers)';
    groups.set(group, (groups.get(group) ?? 0) + t.seconds - (start.get(t.tid) ?? 0));
  }
  return [...groups].filter(([, s]) => s > 0).sort((a, b) => b[1] - a[1]);
}

/**
 * CPU seconds the whole machine has been busy (all cores, from /proc/stat), or NaN elsewhere: set
 * against the server's and the benchmark's own time, it shows whether other work shared the cores.
 */
export function machineBusySeconds(): number {
  try {
    const first = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    // cpu user nice system idle iowait irq softirq steal …
    const f = first.trim().split(/\s+/).slice(1).map(Number);
    return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) / clockTicks();
  } catch {
    return NaN;
  }
}
