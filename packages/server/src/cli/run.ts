/**
 * `linktrace run [--service s] [--endpoint url] [--token t] -- <command...>`: runs a script or job
 * as one traced unit. A root span covers the whole run; the child gets it as its parent in
 * `TRACEPARENT` and loads `@linktrace/sdk/register` through `NODE_OPTIONS`, so a Node child's spans
 * land under the run. The CLI exits with the child's code. SIGTERM and SIGHUP sent to the CLI are
 * forwarded; SIGINT and SIGQUIT are not (the terminal already sent them to the child).
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { activeContext, createTracing, otlpHttpExporter, parseSamplerFromEnv, type SpanHandle, type Tracing } from '@linktrace/sdk';
import { processIo, type CliIo } from './cli-io.js';

export interface RunFlags {
  service?: string;
  endpoint?: string;
  token?: string;
}

export const DEFAULT_RUN_ENDPOINT = 'http://127.0.0.1:4318';
/**
 * Sent to the CLI alone (a process manager, `kill <pid>`, a container stop): passed on to the child.
 * Not SIGINT or SIGQUIT: the terminal sends those (Ctrl-C, Ctrl-\) to its whole foreground process
 * group, child included, and a second copy from the CLI would interrupt the child's own clean-up
 * (its span flush). The CLI only outlives them, waits for the child and exits as it does.
 */
const FORWARDED_SIGNALS = ['SIGTERM', 'SIGHUP'] as const;
const GROUP_SIGNALS = ['SIGINT', 'SIGQUIT'] as const;
const MAX_NAME_LENGTH = 200;

export function register(program: Command, io: CliIo = processIo): void {
  program
    .command('run')
    .description('run a command (a script, a job) under one root span; a Node child is traced automatically and its spans become children of it')
    .argument('<command...>', 'the command and its arguments, after `--`')
    .option('--service <name>', "service name of the run and of the child's spans (default: $LINKTRACE_SERVICE, else the command's name; for `node script.js`, the script's: script)")
    .option('--endpoint <url>', `base URL of linktrace serve (default: $LINKTRACE_ENDPOINT, else ${DEFAULT_RUN_ENDPOINT})`)
    .option('--token <token>', 'bearer token for the collector (default: $LINKTRACE_TOKEN)')
    .allowUnknownOption()
    .action(async (command: string[], flags: RunFlags) => {
      io.setExitCode(await runCommand(command, flags, io));
    });
}

/** Runs the command; resolves to the exit code to leave with (the child's). */
export async function runCommand(command: readonly string[], flags: RunFlags, io: CliIo): Promise<number> {
  const env = io.env;
  const endpoint = (flags.endpoint ?? nonEmpty(env['LINKTRACE_ENDPOINT']) ?? DEFAULT_RUN_ENDPOINT).replace(/\/+$/, '');
  if (!isHttpUrl(endpoint)) {
    io.stderr.write(`linktrace run: --endpoint ${JSON.stringify(endpoint)} is not an http(s) URL\n`);
    return 2;
  }
  if (command.length === 0 || command[0] === '') {
    io.stderr.write('linktrace run: no command given (linktrace run -- <command...>)\n');
    return 2;
  }
  const token = flags.token ?? nonEmpty(env['LINKTRACE_TOKEN']);
  const service = flags.service ?? nonEmpty(env['LINKTRACE_SERVICE']) ?? commandServiceName(command);
  const tracing = createTracing({
    service,
    sampler: parseSamplerFromEnv(env, { warn: (m) => io.stderr.write(`linktrace run: ${m}\n`) }),
    exporter: otlpHttpExporter({ url: `${endpoint}/v1/traces`, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }),
  });
  // A run inside a traced run (or any launcher that sets TRACEPARENT) nests under it.
  const parent = env['TRACEPARENT'] !== undefined ? tracing.extract({ traceparent: env['TRACEPARENT'], tracestate: env['TRACESTATE'] }) : activeContext();
  const name = command.join(' ');
  const span = tracing.getTracer('@linktrace/server/run').startSpan(name.length > MAX_NAME_LENGTH ? `${name.slice(0, MAX_NAME_LENGTH - 1)}…` : name, {
    kind: 'internal',
    parent,
    attributes: { 'process.command_args': [...command], 'process.executable.name': basename(command[0]!) },
  });
  const childEnv = childEnvironment(env, tracing, parent.withSpan(span), { service, endpoint, token });
  const code = await spawnAndWait(command, childEnv, span, io);
  span.end();
  await tracing.shutdown();
  return code;
}

function childEnvironment(
  env: Record<string, string | undefined>,
  tracing: Tracing,
  ctx: ReturnType<typeof activeContext>,
  settings: { service: string; endpoint: string; token: string | undefined },
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  delete out['TRACEPARENT'];
  delete out['TRACESTATE'];
  const carrier: Record<string, string> = {};
  tracing.inject(carrier, undefined, ctx);
  if (carrier['traceparent'] !== undefined) out['TRACEPARENT'] = carrier['traceparent'];
  if (carrier['tracestate'] !== undefined) out['TRACESTATE'] = carrier['tracestate'];
  out['LINKTRACE_ENDPOINT'] = settings.endpoint;
  // Always set: without it the child's SDK would name its spans `unknown_service:node`.
  out['LINKTRACE_SERVICE'] = settings.service;
  if (settings.token !== undefined) out['LINKTRACE_TOKEN'] = settings.token;
  // An absolute URL: the child's working directory need not be able to resolve @linktrace/sdk.
  const preload = `--import ${import.meta.resolve('@linktrace/sdk/register')}`;
  const existing = nonEmpty(env['NODE_OPTIONS']);
  out['NODE_OPTIONS'] = existing === undefined ? preload : `${existing} ${preload}`;
  return out;
}

function spawnAndWait(command: readonly string[], env: Record<string, string | undefined>, span: SpanHandle, io: CliIo): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { env, stdio: 'inherit' });
    const forward = new Map<NodeJS.Signals, () => void>();
    for (const signal of FORWARDED_SIGNALS) {
      const handler = (): void => {
        span.addEvent('signal forwarded', { 'linktrace.process.signal': signal });
        child.kill(signal);
      };
      forward.set(signal, handler);
      process.on(signal, handler);
    }
    for (const signal of GROUP_SIGNALS) {
      const handler = (): void => {
        span.addEvent('signal received', { 'linktrace.process.signal': signal });
      };
      forward.set(signal, handler);
      process.on(signal, handler);
    }
    let settled = false;
    const done = (code: number): void => {
      if (settled) return;
      settled = true;
      for (const [signal, handler] of forward) process.removeListener(signal, handler);
      resolve(code);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      span.recordException(error);
      span.setStatus('error', `could not start ${command[0]}: ${error.message}`);
      io.stderr.write(`linktrace run: could not start ${command[0]}: ${error.message}\n`);
      // 127 / 126: what a shell answers for a missing or a non-executable command.
      done(error.code === 'ENOENT' ? 127 : 126);
    });
    child.on('exit', (code, signal) => {
      if (signal !== null) {
        span.setAttribute('linktrace.process.signal', signal);
        span.setStatus('error', `killed by ${signal}`);
        done(128 + (constants.signals[signal] ?? 0));
        return;
      }
      const exitCode = code ?? 1;
      span.setAttribute('process.exit.code', exitCode);
      if (exitCode !== 0) span.setStatus('error', `exited with code ${exitCode}`);
      done(exitCode);
    });
  });
}

/**
 * The service a run is named after when nothing names it: the command's name, except that for
 * `node <script> ...` (node's own flags before the script are not guessed at) it is the script's
 * file name without its extension, since every Node job would otherwise be called `node`.
 */
export function commandServiceName(command: readonly string[]): string {
  const executable = basename(command[0]!);
  const script = command[1];
  if (NODE_EXECUTABLES.has(executable) && script !== undefined && script !== '' && !script.startsWith('-')) {
    const name = basename(script).replace(/\.[cm]?[jt]s$/, '');
    if (name !== '') return name;
  }
  return executable;
}

const NODE_EXECUTABLES: ReadonlySet<string> = new Set(['node', 'nodejs', 'node.exe', basename(process.execPath)]);

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
