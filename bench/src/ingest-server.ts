/**
 * The server under test, as its own process: `linktrace serve --port 0 --data <dir>` from the
 * repository's bin, its address read from the line it prints, its output passed on to our stderr
 * (stdout is the benchmark's table), and a clean stop (SIGTERM: drain, close the store, exit).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pinnedNode } from './cpu-pin.js';

/** From bench/dist/src/ to the repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/**
 * The `linktrace` bin this checkout built; BENCH_SERVER_BIN names another one (e.g. another worktree's
 * `packages/server/bin/linktrace.js`), to measure two builds with the same load generator.
 */
const BIN = process.env.BENCH_SERVER_BIN !== undefined && process.env.BENCH_SERVER_BIN !== '' ? process.env.BENCH_SERVER_BIN : fileURLToPath(new URL('../../../packages/server/bin/linktrace.js', import.meta.url));

export interface ServerProcess {
  url: string;
  pid: number;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  exited: Promise<number | string>;
  /** SIGTERM, then waits up to `timeoutMs` for the exit; SIGKILL after that. */
  stop(timeoutMs: number): Promise<number | string>;
}

export interface ServerStart {
  dataDir: string;
  /** More `serve` flags. */
  args?: readonly string[];
  /** Flags for node itself (e.g. `--cpu-prof`). */
  nodeArgs?: readonly string[];
  /** How long to wait for the listening line. */
  timeoutMs?: number;
  /** Sees every line the server prints (stdout and stderr), e.g. to read what start-up recovered. */
  onLine?: (line: string) => void;
  /** Runs the server under `taskset -c cpus` (e.g. `0`): every thread of it on those CPUs only. */
  cpus?: string;
}

const LISTENING_RE = /linktrace: listening on (http:\/\/\S+)/;

function relay(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      for (const line of lines) onLine(line);
    });
  }
}

export function startServerProcess(start: ServerStart): Promise<ServerProcess> {
  const args = [...(start.nodeArgs ?? []), BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--data', start.dataDir, ...(start.args ?? [])];
  const [command, commandArgs] = pinnedNode(start.cpus, args);
  const child = spawn(command, commandArgs, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return new Promise((resolve, reject) => {
    let url: string | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`linktrace serve printed no listening line within ${start.timeoutMs ?? 60_000} ms`));
    }, start.timeoutMs ?? 60_000);
    relay(child, (line) => {
      process.stderr.write(`  [server] ${line}\n`);
      start.onLine?.(line);
      const m = url === undefined ? LISTENING_RE.exec(line) : null;
      if (m !== null) {
        url = m[1]!;
        clearTimeout(timer);
        resolve({
          url,
          pid: child.pid!,
          exited,
          async stop(timeoutMs: number) {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
            try {
              return await exited;
            } finally {
              clearTimeout(killer);
            }
          },
        });
      }
    });
    void exited.then((code) => {
      if (url === undefined) {
        clearTimeout(timer);
        reject(new Error(`linktrace serve exited (${code}) before listening; run \`npm run build\` first`));
      }
    });
  });
}

/** The value of a Prometheus counter or gauge without labels (summed over label sets otherwise). */
export function metricValue(text: string, name: string): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) {
      sum += value;
      found = true;
    }
  }
  return found ? sum : NaN;
}

/** A counter's value per value of one label (`name{label="v"} n` lines), summed over other labels. */
export function metricByLabel(text: string, name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = new RegExp(`[{,]${label}="((?:[^"\\\\]|\\\\.)*)"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const m = re.exec(line.slice(name.length, line.lastIndexOf('}') + 1));
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (m !== null && Number.isFinite(value)) out.set(m[1]!, (out.get(m[1]!) ?? 0) + value);
  }
  return out;
}
