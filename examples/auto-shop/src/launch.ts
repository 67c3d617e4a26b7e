/**
 * Starts the pieces of the example as real processes: `linktrace serve`, and each service under
 * `node --import @linktrace/sdk/register` — the only thing that traces them. Used by `npm start`
 * and by the end-to-end test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const EXAMPLE_DIR = fileURLToPath(new URL('../../', import.meta.url));
const LINKTRACE_BIN = fileURLToPath(new URL('../../../../packages/server/bin/linktrace.js', import.meta.url));

export type ServiceName = 'order-api' | 'order-worker' | 'notify-service';

export interface Launched {
  readonly name: string;
  readonly pid: number;
  /** The `http://host:port` the process printed (undefined for order-worker, which serves no HTTP). */
  readonly url: string | undefined;
  /** Everything the process printed so far, for failure messages. */
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves with how it ended. */
  stop(timeoutMs?: number): Promise<number | string>;
}

interface LaunchOptions {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** The line that says the process is ready; group 1, when present, is its URL. */
  ready: RegExp;
  timeoutMs: number;
  /** Copy the process's output to ours, prefixed with its name. */
  echo: boolean;
  /**
   * Its own process group, so that Ctrl-C in a terminal does not reach it and it is stopped last,
   * after the services flushed their spans to it. Killed when this process exits.
   */
  ownGroup?: boolean;
}

function launch(options: LaunchOptions): Promise<Launched> {
  const child: ChildProcess = spawn(process.execPath, options.args, { cwd: EXAMPLE_DIR, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: options.ownGroup === true });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  if (options.ownGroup === true) {
    const killOnExit = (): void => void child.kill('SIGKILL');
    process.once('exit', killOnExit);
    void exited.then(() => process.removeListener('exit', killOnExit));
  }
  let log = '';
  return new Promise((resolve, reject) => {
    let url: string | undefined;
    let ready = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.name} was not ready within ${options.timeoutMs} ms; it printed:\n${log}`));
    }, options.timeoutMs);
    for (const stream of [child.stdout!, child.stderr!]) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop()!;
        for (const line of lines) {
          if (log.length < 256 * 1024) log += `${line}\n`;
          if (options.echo) process.stdout.write(`[${options.name}] ${line}\n`);
          const match = ready ? null : options.ready.exec(line);
          if (match === null) continue;
          ready = true;
          url = match[1];
          clearTimeout(timer);
          resolve({
            name: options.name,
            pid: child.pid!,
            url,
            output: () => log,
            exited,
            async stop(timeoutMs = 5000) {
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
    }
    void exited.then((code) => {
      if (ready) return;
      clearTimeout(timer);
      reject(new Error(`${options.name} exited (${code}) before it was ready; it printed:\n${log}`));
    });
  });
}

export interface ServeOptions {
  dataDir: string;
  port?: number;
  checkDelay?: string;
  echo?: boolean;
  ownGroup?: boolean;
}

/** `linktrace serve` on 127.0.0.1 (port 0 = a free one); `url` is the address it printed. */
export function startLinktraceServe(options: ServeOptions): Promise<Launched> {
  const args = [LINKTRACE_BIN, 'serve', '--host', '127.0.0.1', '--port', String(options.port ?? 0), '--data', options.dataDir, '--check-delay', options.checkDelay ?? '5s'];
  return launch({ name: 'linktrace', args, env: process.env, ready: /linktrace: listening on (http:\/\/\S+)/, timeoutMs: 60_000, echo: options.echo ?? false, ownGroup: options.ownGroup ?? false });
}

export interface ServiceOptions {
  /** Base URL of `linktrace serve` (LINKTRACE_ENDPOINT). */
  endpoint: string;
  /** AUTO_SHOP_PREFIX: this run's tables, keys and queue. */
  prefix: string;
  port?: number;
  /** NOTIFY_URL, for order-worker. */
  notifyUrl?: string;
  /** More environment (POSTGRES_URL, OTEL_*, …). */
  env?: NodeJS.ProcessEnv;
  echo?: boolean;
  ownGroup?: boolean;
}

/**
 * One service as its own process, traced by the register hook alone: the service's code imports
 * nothing from Linktrace. Resolves once it printed that it listens (or, for the worker, consumes).
 */
export function startService(name: ServiceName, options: ServiceOptions): Promise<Launched> {
  const script = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LINKTRACE_SERVICE: name,
    LINKTRACE_ENDPOINT: options.endpoint,
    AUTO_SHOP_PREFIX: options.prefix,
    PORT: String(options.port ?? 0),
    ...(options.notifyUrl === undefined ? {} : { NOTIFY_URL: options.notifyUrl }),
    ...options.env,
  };
  const ready = name === 'order-worker' ? /^order-worker: consuming (?:\S+)$/ : new RegExp(`^${name}: listening on (http://\\S+)$`);
  return launch({ name, args: ['--import', '@linktrace/sdk/register', script], env, ready, timeoutMs: 30_000, echo: options.echo ?? false, ownGroup: options.ownGroup ?? false });
}
