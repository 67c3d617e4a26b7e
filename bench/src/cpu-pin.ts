/**
 * Pinning benchmark processes to CPUs with `taskset` (util-linux): a command line run under
 * `taskset -c`, a running process moved with `taskset -a -p -c`, and a clear error when the tool
 * is missing instead of a spawn failure deep inside a run.
 */
import { execFileSync } from 'node:child_process';

/** Throws, naming the variable that asked for pinning, when `taskset` cannot be run. */
export function requireTaskset(askedBy: string): void {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
  } catch (error) {
    throw new Error(`${askedBy} pins processes with taskset, which cannot be run here (install util-linux): ${(error as Error).message}`);
  }
}

/** `node args` as a command line, under `taskset -c cpus` when a CPU list is given. */
export function pinnedNode(cpus: string | undefined, args: readonly string[]): [string, string[]] {
  return cpus === undefined ? [process.execPath, [...args]] : ['taskset', ['-c', cpus, process.execPath, ...args]];
}

/** Moves every thread of a running process onto these CPUs. */
export function pinProcess(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}
