/** Runs the real `linktrace` command in a child process, for the CLI, crash and flood tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/linktrace.js', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  /** SIGKILL unless it has exited; always safe to call. */
  kill(): void;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Resolves with `{ code, signal }`, or rejects after `ms` (the child is then killed). */
export async function exitWithin(proc: CliProcess, ms: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      proc.kill();
      reject(new Error(`no exit within ${ms} ms; stdout: ${proc.stdout()} stderr: ${proc.stderr()}`));
    }, ms);
  });
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface ServerProcess extends CliProcess {
  url: string;
}

/**
 * `linktrace serve ...args`; resolves once it prints where it listens. `ms` only tells a hang from a
 * slow start: a restart that replays its logs on a machine at load 18 took over 20 s.
 */
export async function startServe(args: string[], env: NodeJS.ProcessEnv = {}, ms = 90_000): Promise<ServerProcess> {
  // gRPC off unless asked for: its default port (4317) would be shared by every test server.
  const grpc = args.includes('--grpc-port') ? [] : ['--grpc-port', '0'];
  const proc = runCli(['serve', '--port', '0', ...grpc, ...args], env);
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const m = /listening on (http:\/\/\S+)/.exec(proc.stdout());
    if (m !== null) return { ...proc, url: m[1] };
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  proc.kill();
  throw new Error(`linktrace serve did not start; stdout: ${proc.stdout()} stderr: ${proc.stderr()}`);
}
