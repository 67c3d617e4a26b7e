/** Processes and polling for the federated tests: agents, a gateway and chain services, each its own process. */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { runCli, type CliProcess } from './serve-helpers.js';

export interface Started extends CliProcess {
  url: string;
}

/** Waits until the process prints `pattern` (group 1: its URL); `ms` only tells a hang from a slow start. */
export async function waitForLine(proc: CliProcess, pattern: RegExp, what: string, ms = 240_000): Promise<Started> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const m = pattern.exec(proc.stdout());
    if (m !== null) return { ...proc, url: m[1]! };
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  proc.kill();
  throw new Error(`${what} did not start; stdout: ${proc.stdout()} stderr: ${proc.stderr()}`);
}

export function startAgentProcess(args: string[]): Promise<Started> {
  return waitForLine(runCli(['agent', '--port', '0', '--heartbeat', '200ms', '--check-delay', '1s', ...args]), /linktrace agent: (http:\/\/\S+)/, 'linktrace agent');
}

export function startGatewayProcess(args: string[] = []): Promise<Started> {
  return waitForLine(runCli(['gateway', '--port', '0', '--no-ui', ...args]), /linktrace gateway: listening on (http:\/\/\S+)/, 'linktrace gateway');
}

const SERVICE = fileURLToPath(new URL('./fixtures/federated/chain-service.js', import.meta.url));

export function startChainService(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [SERVICE], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LINKTRACE_LOG_LEVEL: 'error', ...env } });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const proc: CliProcess = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
  return waitForLine(proc, /ready (http:\/\/\S+)/, `service ${env.SVC_NAME ?? ''}`, 120_000);
}

/** A port free right now (the services must know each other's ports before they start). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it returns a value (bounded in tries, not a timed assertion). */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, tries = 240, everyMs = 250): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`${what}: not reached after ${tries} tries${last === undefined ? '' : ` (last error: ${(last as Error).message})`}`);
}

export async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

/** SIGTERM, and wait for the exit. */
export async function stop(proc: CliProcess): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill(), 15_000);
  await proc.exited;
  clearTimeout(timer);
}
