/**
 * Runs a `linktrace <role>` (collector, ingester, checker, query, serve) as a child process of the
 * built CLI, as an operator's systemd unit would, for the split-role tests and the scale bench:
 * waits for its ready line, keeps the tail of its output for failure messages, kills it like a
 * crash (SIGKILL) or stops it (SIGTERM), and reads its CPU time from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { processCpuSeconds } from './process-cpu.js';

/** The built CLI entry (`dist/src/cli/main.js`), what `bin/linktrace.js` loads. */
export const CLI_MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** What roles with an HTTP port print once they listen (as `serve` does). */
export const LISTENING = /listening on (http:\/\/\S+)/;

/** Output kept per stream: enough for a failure message, bounded for hour-long runs. */
const KEEP_CHARS = 64 * 1024;

export interface RoleExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RoleProcess {
  /** `collector#1` and the like, for messages. */
  label: string;
  args: string[];
  child: ChildProcess;
  pid: number;
  /** The URL from the ready line's first capture group, when it has one. */
  url?: string;
  stdout(): string;
  stderr(): string;
  running(): boolean;
  exited: Promise<RoleExit>;
  /** SIGKILL (a crash: nothing flushed, nothing said goodbye); resolves once it is gone. */
  kill(): Promise<RoleExit>;
  /** SIGTERM, SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<RoleExit>;
  /** CPU seconds so far; after exit, the last reading taken (see `sampleCpu`). */
  cpuSeconds(): Promise<number>;
}

export interface StartRoleOptions {
  /** A line that says the role is ready; default `LISTENING`. Its first group, if any, becomes `url`. */
  ready?: RegExp;
  env?: NodeJS.ProcessEnv;
  /** Only tells a hang from a slow start on a loaded machine. */
  timeoutMs?: number;
  label?: string;
  /** Extra node flags (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
}

function tail(text: string): string {
  return text.length > KEEP_CHARS ? text.slice(-KEEP_CHARS) : text;
}

/** `node dist/src/cli/main.js <role> ...args`; resolves once its ready line appears. */
export async function startRole(role: string, args: string[], options: StartRoleOptions = {}): Promise<RoleProcess> {
  const ready = options.ready ?? LISTENING;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI_MAIN, role, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let out = '';
  let err = '';
  // Ready is searched in everything seen until it matched, so a line split over chunks still counts.
  let match: RegExpExecArray | null = null;
  let unmatched = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out = tail(out + d);
    if (match === null) {
      unmatched += d;
      match = ready.exec(unmatched);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = tail(err + d)));
  const exited = new Promise<RoleExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  let lastCpu = 0;
  const label = options.label ?? role;
  const proc: RoleProcess = {
    label,
    args,
    child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    running,
    exited,
    async kill() {
      if (running()) {
        lastCpu = (await processCpuSeconds(child.pid!)) ?? lastCpu;
        child.kill('SIGKILL');
      }
      return exited;
    },
    async stop(graceMs = 15_000) {
      if (running()) {
        lastCpu = (await processCpuSeconds(child.pid!)) ?? lastCpu;
        child.kill('SIGTERM');
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    async cpuSeconds() {
      if (running()) lastCpu = (await processCpuSeconds(child.pid!)) ?? lastCpu;
      return lastCpu;
    },
  };
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  while (Date.now() < deadline) {
    const m = match as RegExpExecArray | null;
    if (m !== null) {
      unmatched = '';
      if (m[1] !== undefined) proc.url = m[1];
      return proc;
    }
    if (!running()) break;
    await sleep(25);
  }
  const why = running() ? 'timed out' : 'exited';
  await proc.kill();
  throw new Error(`linktrace ${role} ${args.join(' ')} did not become ready (${why}); stdout: ${out.slice(-3000)} stderr: ${err.slice(-3000)}`);
}
