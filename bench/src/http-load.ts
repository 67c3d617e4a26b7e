/**
 * bench:http's moving parts: the server child processes (one per case and round, since tracers
 * patch process-wide), autocannon as its own process, and CPU time read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { pinnedNode as pinned } from './cpu-pin.js';
import { REPO_ROOT } from './ingest-server.js';

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
const HELLO = fileURLToPath(new URL('./http-hello-server.js', import.meta.url));
const SINK = fileURLToPath(new URL('./http-sink.js', import.meta.url));

/** A child process serving HTTP (the hello-world server or the trace sink). */
export interface HelloServer {
  url: string;
  pid: number;
  /** SIGTERM (the server closes, the tracer flushes), SIGKILL after `timeoutMs`. */
  stop(timeoutMs: number): Promise<number | string>;
}

/** Starts the hello-world server with these node flags and environment; resolves once it listens. */
export function startHello(nodeArgs: readonly string[], env: NodeJS.ProcessEnv, label: string, cpus?: string): Promise<HelloServer> {
  return startListening(HELLO, 'hello', nodeArgs, env, label, cpus);
}

/** Starts the trace sink (http-sink.ts); resolves once it listens. */
export function startSink(label: string, cpus?: string): Promise<HelloServer> {
  return startListening(SINK, 'sink', [], process.env, label, cpus);
}

/** Runs `script`, which prints `<name>: listening on <url>` once it serves. */
function startListening(script: string, name: string, nodeArgs: readonly string[], env: NodeJS.ProcessEnv, label: string, cpus?: string): Promise<HelloServer> {
  const [command, args] = pinned(cpus, [...nodeArgs, script]);
  const ready = `${name}: listening`;
  const readyRe = new RegExp(`${name}: listening on (http:\\/\\/\\S+)`);
  const child: ChildProcess = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${label}: no listening line within 20 s:\n${output}`));
    }, 20_000);
    let url: string | undefined;
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        output += chunk;
        // Anything the server or its tracer prints besides the listening line is worth seeing.
        for (const line of chunk.split('\n')) if (line !== '' && !line.startsWith(ready)) process.stderr.write(`  [${label}] ${line}\n`);
        const m = url === undefined ? readyRe.exec(output) : null;
        if (m === null) return;
        url = m[1]!;
        clearTimeout(timer);
        resolve({
          url,
          pid: child.pid!,
          async stop(timeoutMs) {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
            try {
              return await exited;
            } finally {
              clearTimeout(killer);
            }
          },
        });
      });
    }
    void exited.then((code) => {
      if (url !== undefined) return;
      clearTimeout(timer);
      reject(new Error(`${label}: exited (${code}) before listening:\n${output}`));
    });
  });
}

export interface LoadResult {
  /** Mean requests per second over the run. */
  rps: number;
  /** Requests answered (any status). */
  completed: number;
  /** Requests sent, answered or not (those in flight when the run ended were sent). */
  sent: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

interface AutocannonJson {
  requests: { average: number; total: number; sent: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}

/**
 * autocannon `-c connections -d seconds` against `url`, in its own process (on `cpus` if given).
 * With `rate`, requests are paced at that many per second overall (`-R`) instead of as fast as possible.
 */
export function load(url: string, connections: number, seconds: number, rate?: number, cpus?: string): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const paced = rate === undefined ? [] : ['-R', String(rate)];
    const [command, args] = pinned(cpus, [AUTOCANNON, '-c', String(connections), '-d', String(seconds), ...paced, '-j', '-n', url]);
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`autocannon exited with ${String(code)}: ${err}`));
        return;
      }
      try {
        const r = JSON.parse(out) as AutocannonJson;
        resolve({
          rps: r.requests.average,
          completed: r.requests.total,
          sent: r.requests.sent,
          p50Ms: r.latency.p50,
          p99Ms: r.latency.p99,
          errors: r.errors + r.timeouts,
          non2xx: r.non2xx,
        });
      } catch (error) {
        reject(new Error(`autocannon printed no JSON: ${String(error)}\n${out.slice(0, 500)}\n${err}`));
      }
    });
  });
}

/** User + system CPU time of a process so far, in ms (Linux /proc; NaN elsewhere). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100;
  } catch {
    return NaN;
  }
}
