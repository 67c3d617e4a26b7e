/**
 * `linktrace serve`: collector, write-ahead log, embedded store and HTTP API in one process. Prints
 * where it listens; SIGINT/SIGTERM stop it cleanly (no new requests, backlog drained into the store,
 * store closed, exit code 0). Bad flags print a message and exit with code 2.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import type { Span } from '@linktrace/model';
import { ClickHouseError } from '@linktrace/storage';
import { buildApp, tokenCheck } from '../app.js';
import { logVerbosity as grpcLogVerbosity, setLogVerbosity as setGrpcLogVerbosity } from '@grpc/grpc-js';
import { startGrpcReceiver, type GrpcReceiver } from '../grpc/otlp-grpc-receiver.js';
import { registerQueryRoutes } from '../routes/query-routes.js';
import {
  ConfigError,
  DEFAULT_LIMITS,
  DEFAULT_PIPELINE,
  parseDuration,
  parseInteger,
  parseRetention,
  parseSize,
  type IngestLimits,
  type PipelineOptions,
} from '../config.js';
import type { IngestStore } from '../pipeline/ingest-store.js';
import { RetentionJob } from '../pipeline/retention-job.js';
import { formatDurationUs } from '../query/duration-text.js';
import type { AlertSink } from '../alerts/alert-sink.js';
import { LogSink } from '../alerts/log-sink.js';
import { parseSentryDsn } from '../alerts/sentry-dsn.js';
import { SentrySink } from '../alerts/sentry-sink.js';
import { checkWebhookUrl, WebhookSink } from '../alerts/webhook-sink.js';
import type { CheckerOptions } from '../checker/checker-options.js';
import { readFlowsFile } from '../checker/flows-file.js';
import { locateUiDir } from '../ui/ui-dir.js';
import { registerUiRoutes } from '../ui/ui-routes.js';
import { DEFAULT_TIMEOUTS, type HttpTimeouts } from '../http/timeouts.js';
import { isNoSpaceError } from '../wal/write-ahead-log.js';
import { resumeWhenSpace } from './resume-when-space.js';
import { openStore, parseStoreUrl, type StoreSpec } from './store-url.js';
import { parseStoreKind } from './open-store.js';
import { openStoreWithRetry, StoreWaitAborted } from './wait-for-store.js';
import { remedyOptions, type RemedyOptions } from '../remedies/remedy-options.js';
import { DEFAULT_KEEP_MAX_PENDING, describeSampling, parseKeepFlags, type KeepFlags, type SamplingOptions } from '../sampling/keep-options.js';

export interface ServeFlags extends KeepFlags {
  port?: string;
  grpcPort?: string;
  host?: string;
  data?: string;
  token?: string;
  allowAnonymousWrites?: boolean;
  retention?: string;
  checkDelay?: string;
  maxWait?: string;
  deadline?: string;
  slowChain?: string;
  flows?: string;
  alertWebhook?: string[];
  sentryDsn?: string;
  alertLog?: boolean;
  maxRequestSize?: string;
  maxDecompressedSize?: string;
  maxDecompressing?: string;
  maxSpans?: string;
  maxAttributes?: string;
  maxAttributeLength?: string;
  maxBacklog?: string;
  maxFuture?: string;
  headerTimeout?: string;
  bodyTimeout?: string;
  idleTimeout?: string;
  maxMemory?: string;
  /** `--ui <dir>` (a string) or `--no-ui` (false). */
  ui?: string | boolean;
  /** `--store <url>`: a directory (embedded) or clickhouse://host:8123/db; default: the data directory. */
  store?: string;
  clickhouseCluster?: string;
  /** `--store-format duckdb|blocks`: how a new embedded data directory stores spans. */
  storeFormat?: string;
  remedyToken?: string;
  remedySecret?: string;
  remedyTtl?: string;
}

export interface ServeOptions {
  port: number;
  /**
   * OTLP/gRPC port; 0 or absent: no gRPC receiver. `grpcPortDefault`: the port is the default, not
   * asked for, so that when it is taken serve warns and runs without gRPC instead of failing.
   */
  grpcPort?: number;
  grpcPortDefault?: boolean;
  host: string;
  dataDir: string;
  token: string | undefined;
  /** Without a token, accept write routes (flow contracts) from anyone. */
  allowAnonymousWrites: boolean;
  /** How long data is kept after it arrived, ms; 0: forever (`--retention 0` or `off`). */
  retentionMs: number;
  /** Quiet delay before a trace is checked (DESIGN §4). */
  checkDelayMs: number;
  /** The chain checker's settings (its check delay is `checkDelayMs`). */
  checker: CheckerOptions;
  /** Run no chain checker (a federated agent's default: the gateway checks whole traces on demand). */
  checkerOff?: boolean;
  alerts: AlertSettings;
  limits: IngestLimits;
  pipeline: PipelineOptions;
  /** Client connection timeouts (header, whole request, idle keep-alive). */
  timeouts: HttpTimeouts;
  /** `--max-memory`: what the backlog and the checker may hold together; absent: from the machine. */
  maxMemoryBytes?: number;
  /** The built web UI served at `/`; false: no UI. */
  uiDir: string | false;
  /** Where spans are stored (`--store`); absent: the embedded store in `dataDir`. */
  store?: StoreSpec;
  /** Tail sampling (`--keep`, `--keep-rate`); absent: every trace is kept. */
  sampling?: SamplingOptions;
  /** Remedies (`--remedy-token`, `--remedy-secret`); absent: off. */
  remedies?: Partial<RemedyOptions>;
}

export interface AlertSettings {
  webhooks: string[];
  sentryDsn?: string;
  /** One line per finding on stderr. */
  log: boolean;
}

/** The smallest `--max-memory`. */
const MIN_MAX_MEMORY_BYTES = 64 * 1024 * 1024;

export const SERVE_DEFAULTS = {
  port: '4318',
  grpcPort: '4317',
  host: '127.0.0.1',
  data: './linktrace-data',
  retention: '7d',
  checkDelay: '30s',
  maxWait: '5m',
} as const;

/** `--remedy-token`/`--remedy-secret`/`--remedy-ttl` -> remedy options, or undefined when remedies are off. */
function parseRemedyFlags(flags: ServeFlags, env: NodeJS.ProcessEnv): Partial<RemedyOptions> | undefined {
  const secret = flags.remedySecret ?? env.LINKTRACE_REMEDY_SECRET;
  if (flags.remedyToken === undefined) {
    if (flags.remedySecret !== undefined || flags.remedyTtl !== undefined) throw new ConfigError('--remedy-secret and --remedy-ttl need --remedy-token (remedies are off without it)');
    return undefined;
  }
  const given: Partial<RemedyOptions> = { token: flags.remedyToken, ...(secret !== undefined && { secret }) };
  if (flags.remedyTtl !== undefined) given.ttlMs = parseDuration(flags.remedyTtl, '--remedy-ttl');
  // Checked now, so that a missing secret is a start-up error naming the flag.
  remedyOptions(given);
  return given;
}

/** Flags (strings as typed) -> options; throws ConfigError naming the flag. `env` supplies LINKTRACE_TOKEN. */
export function parseServeFlags(flags: ServeFlags, env: NodeJS.ProcessEnv = {}): ServeOptions {
  const host = flags.host ?? SERVE_DEFAULTS.host;
  if (host.trim() === '') throw new ConfigError('--host: must not be empty');
  const data = flags.data ?? SERVE_DEFAULTS.data;
  if (data.trim() === '') throw new ConfigError('--data: must not be empty');
  const token = flags.token ?? env.LINKTRACE_TOKEN;
  if (token !== undefined && (token === '' || /\s/.test(token))) throw new ConfigError('--token: must be non-empty and without spaces');
  const maxDecompressedBytes =
    flags.maxDecompressedSize === undefined ? DEFAULT_LIMITS.maxDecompressedBytes : parseSize(flags.maxDecompressedSize, '--max-decompressed-size');
  const maxDecompressingBytes =
    flags.maxDecompressing === undefined
      ? Math.max(DEFAULT_LIMITS.maxDecompressingBytes, maxDecompressedBytes)
      : parseSize(flags.maxDecompressing, '--max-decompressing');
  if (maxDecompressingBytes < maxDecompressedBytes) throw new ConfigError('--max-decompressing: must be at least --max-decompressed-size');
  const limits: IngestLimits = {
    maxRequestBytes: flags.maxRequestSize === undefined ? DEFAULT_LIMITS.maxRequestBytes : parseSize(flags.maxRequestSize, '--max-request-size'),
    maxDecompressedBytes,
    maxDecompressingBytes,
    maxSpansPerRequest: flags.maxSpans === undefined ? DEFAULT_LIMITS.maxSpansPerRequest : parseInteger(flags.maxSpans, '--max-spans', 1, 1_000_000),
    maxAttributesPerSpan:
      flags.maxAttributes === undefined ? DEFAULT_LIMITS.maxAttributesPerSpan : parseInteger(flags.maxAttributes, '--max-attributes', 1, 1024),
    maxAttributeValueLength:
      flags.maxAttributeLength === undefined
        ? DEFAULT_LIMITS.maxAttributeValueLength
        : parseInteger(flags.maxAttributeLength, '--max-attribute-length', 1, 131_072),
    maxFutureMs: flags.maxFuture === undefined ? DEFAULT_LIMITS.maxFutureMs : parseDuration(flags.maxFuture, '--max-future'),
  };
  const checkDelayMs = parseDuration(flags.checkDelay ?? SERVE_DEFAULTS.checkDelay, '--check-delay');
  const maxWaitMs = parseDuration(flags.maxWait ?? SERVE_DEFAULTS.maxWait, '--max-wait');
  if (maxWaitMs < checkDelayMs) throw new ConfigError(`--max-wait: ${flags.maxWait ?? SERVE_DEFAULTS.maxWait} is shorter than --check-delay`);
  const checker: CheckerOptions = { checkDelayMs, maxWaitMs };
  if (flags.deadline !== undefined) checker.deadlineMs = parseDuration(flags.deadline, '--deadline');
  if (flags.slowChain !== undefined) checker.slowChainMs = parseDuration(flags.slowChain, '--slow-chain');
  if (flags.flows !== undefined) checker.flows = readFlowsFile(flags.flows);
  const webhooks = flags.alertWebhook ?? [];
  for (const url of webhooks) checkWebhookUrl(url);
  const alerts: AlertSettings = { webhooks, log: flags.alertLog === true };
  if (flags.sentryDsn !== undefined) {
    parseSentryDsn(flags.sentryDsn);
    alerts.sentryDsn = flags.sentryDsn;
  }
  if (flags.ui === '' || (typeof flags.ui === 'string' && flags.ui.trim() === '')) throw new ConfigError('--ui: must not be empty');
  const uiDir = flags.ui === false ? false : typeof flags.ui === 'string' ? resolve(flags.ui) : locateUiDir();
  const timeouts: HttpTimeouts = {
    headerMs: flags.headerTimeout === undefined ? DEFAULT_TIMEOUTS.headerMs : parseDuration(flags.headerTimeout, '--header-timeout'),
    bodyMs: flags.bodyTimeout === undefined ? DEFAULT_TIMEOUTS.bodyMs : parseDuration(flags.bodyTimeout, '--body-timeout'),
    idleMs: flags.idleTimeout === undefined ? DEFAULT_TIMEOUTS.idleMs : parseDuration(flags.idleTimeout, '--idle-timeout'),
  };
  if (timeouts.headerMs > timeouts.bodyMs) throw new ConfigError('--header-timeout: must not be longer than --body-timeout (which covers the headers too)');
  const maxMemory = flags.maxMemory === undefined ? {} : { maxMemoryBytes: parseSize(flags.maxMemory, '--max-memory') };
  // Below it, the checker's table of traces it let go (up to 16 MB) alone can keep it checking from the store.
  if (maxMemory.maxMemoryBytes !== undefined && maxMemory.maxMemoryBytes < MIN_MAX_MEMORY_BYTES) {
    throw new ConfigError(`--max-memory: ${flags.maxMemory!} is less than 64mb`);
  }
  const format = flags.storeFormat === undefined ? undefined : parseStoreKind(flags.storeFormat, '--store-format');
  const store = parseStoreUrl(flags.store ?? data, env, flags.clickhouseCluster, format);
  const sampling = parseKeepFlags(flags, checkDelayMs);
  const remedies = parseRemedyFlags(flags, env);
  return {
    ...(remedies === undefined ? {} : { remedies }),
    store: store.kind === 'embedded' ? { ...store, dataDir: resolve(store.dataDir) } : store,
    timeouts,
    ...maxMemory,
    ...(sampling === undefined ? {} : { sampling }),
    uiDir,
    port: parseInteger(flags.port ?? SERVE_DEFAULTS.port, '--port', 0, 65535),
    grpcPort: parseInteger(flags.grpcPort ?? SERVE_DEFAULTS.grpcPort, '--grpc-port', 0, 65535),
    grpcPortDefault: flags.grpcPort === undefined,
    host,
    dataDir: resolve(data),
    token,
    allowAnonymousWrites: flags.allowAnonymousWrites === true,
    retentionMs: parseRetention(flags.retention ?? SERVE_DEFAULTS.retention, '--retention'),
    checkDelayMs,
    checker,
    alerts,
    limits,
    pipeline: {
      ...DEFAULT_PIPELINE,
      maxBacklogSpans:
        flags.maxBacklog === undefined ? DEFAULT_PIPELINE.maxBacklogSpans : parseInteger(flags.maxBacklog, '--max-backlog', 1, 100_000_000),
    },
  };
}

export interface RunningServer {
  app: FastifyInstance;
  store: IngestStore;
  /** `http://host:port` */
  url: string;
  /** The OTLP/gRPC receiver's address, `host:port` (what an OTel exporter's endpoint takes, with `http://`); absent when off. */
  grpcAddress?: string;
  retention: RetentionJob;
  /** Stops taking requests, drains the backlog into the store, closes it. Safe to call twice. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Lines for the operator (stdout). */
  print?: (line: string) => void;
  /** Warnings (stderr). */
  warn?: (line: string) => void;
  /** More routes, after the query API. */
  extraRoutes?: (app: FastifyInstance, store: IngestStore) => void | Promise<void>;
  /** The clock the store marks arrival with, retention counts by and the checker decides by (ms since the epoch); default `Date.now`. */
  clock?: () => number;
  /** Every batch once durable in the store (AppOptions.onStored). */
  onStored?: (spans: readonly Span[]) => void;
  /** Every batch once durable in the write-ahead log, before the store has it (AppOptions.onDurable). */
  onDurable?: (spans: readonly Span[]) => void;
  /** Aborted while a remote store is still being waited for: the start gives up (StoreWaitAborted). */
  signal?: AbortSignal;
}

/** The sinks the flags ask for; log lines go to `warn` (stderr). */
export function alertSinks(settings: AlertSettings, warn: (line: string) => void): AlertSink[] {
  const sinks: AlertSink[] = settings.webhooks.map((url) => new WebhookSink(url));
  if (settings.sentryDsn !== undefined) sinks.push(new SentrySink(settings.sentryDsn));
  if (settings.log) sinks.push(new LogSink(warn));
  return sinks;
}

/** How long closing lets OTLP/gRPC calls under way finish before it cuts them. */
const SHUTDOWN_GRPC_MS = 10_000;

function hostForUrl(address: AddressInfo): string {
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

/** Opens the store and the app, listens, and starts the retention job. */
export async function startServer(options: ServeOptions, start: StartOptions = {}): Promise<RunningServer> {
  const warn = start.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  try {
    return await startServerOnce(options, start, undefined);
  } catch (error) {
    if (!isDiskFull(error)) throw error;
    // Degraded, not down: without room to write, the server still answers queries from what it has.
    const reason = error instanceof Error ? error : new Error(String(error));
    warn(`linktrace: the data directory has no room to write (${reason.message}); starting read-only: queries work, ingest answers 507 until space is free`);
    const readOnly = await startServerOnce(options, start, reason);
    return resumeWhenSpace(readOnly, options.dataDir, (port) => restartOnPort({ ...options, port }, start), warn);
  }
}

/** A writable start when the disk has room again, a read-only one otherwise. */
async function restartOnPort(options: ServeOptions, start: StartOptions): Promise<{ server: RunningServer; writable: boolean }> {
  try {
    return { server: await startServerOnce(options, start, undefined), writable: true };
  } catch (error) {
    if (!isDiskFull(error)) throw error;
    return { server: await startServerOnce(options, start, error instanceof Error ? error : new Error(String(error))), writable: false };
  }
}

/** A start-up failure for want of space: Node's errno codes, or DuckDB's message (it has no code). */
function isDiskFull(error: unknown): boolean {
  return isNoSpaceError(error) || (error instanceof Error && /no space left on device|disk quota exceeded/i.test(error.message));
}

async function startServerOnce(options: ServeOptions, start: StartOptions, readOnly: Error | undefined): Promise<RunningServer> {
  const print = start.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const warn = start.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const clock = start.clock ?? Date.now;
  const spec: StoreSpec = options.store ?? { kind: 'embedded', dataDir: options.dataDir };
  const ttlDays = options.retentionMs > 0 ? options.retentionMs / 86_400_000 : undefined;
  const opened =
    spec.kind === 'embedded'
      ? // Its write-ahead log replays what a crash takes from a block store's in-memory head (deferDurability).
        { store: await openStore(spec, { clock, readOnly: readOnly !== undefined, deferDurability: readOnly === undefined }), port: options.port }
      : await openStoreWithRetry(() => openStore(spec, { clock, ...(ttlDays !== undefined && { ttlDays }), log: warn }), {
          host: options.host,
          port: options.port,
          display: spec.display,
          warn,
          retryable: (error) => error instanceof ClickHouseError && error.unreachable,
          ...(start.signal !== undefined && { signal: start.signal }),
        });
  const store = opened.store;
  let app: FastifyInstance;
  try {
    const extra = start.extraRoutes;
    app = await buildApp({
      store,
      readOnly,
      dataDir: options.dataDir,
      token: options.token,
      allowAnonymousWrites: options.allowAnonymousWrites,
      clock,
      limits: options.limits,
      pipeline: options.pipeline,
      timeouts: options.timeouts,
      logger: { level: 'warn' },
      processMetrics: true,
      checker: options.checkerOff === true ? undefined : options.checker,
      maxMemoryBytes: options.maxMemoryBytes,
      sampling: options.sampling,
      remedies: options.remedies,
      alerts: { sinks: alertSinks(options.alerts, warn) },
      onStored: start.onStored,
      onDurable: start.onDurable,
      extraRoutes: async (scope) => {
        registerQueryRoutes(scope, { store });
        if (options.uiDir !== false) await registerUiRoutes(scope, { dir: options.uiDir });
        if (extra !== undefined) await extra(scope, store);
      },
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  try {
    await app.listen({ port: opened.port, host: options.host });
  } catch (error) {
    await app.close();
    await store.close();
    throw error;
  }
  const address = app.server.address() as AddressInfo;
  const url = `http://${hostForUrl(address)}:${address.port}`;
  let grpc: GrpcReceiver | undefined;
  // grpc-js logs to stderr through a process-wide logger; serve reports what it needs itself.
  setGrpcLogVerbosity(grpcLogVerbosity.NONE);
  let grpcOff = 'off (--grpc-port 0)';
  const receivers = app.linktrace.receivers;
  if (options.grpcPort !== undefined && options.grpcPort !== 0 && receivers !== undefined) {
    try {
      grpc = await startGrpcReceiver(receivers, {
        host: options.host,
        port: options.grpcPort,
        authorized: options.token === undefined ? undefined : tokenCheck(options.token),
        warn,
      });
    } catch (error) {
      const message = (error as Error).message;
      if (options.grpcPortDefault !== true || !/EADDRINUSE|address already in use|No address added/i.test(message)) {
        await app.close();
        await store.close();
        throw new Error(`OTLP/gRPC on port ${options.grpcPort}: ${message}`);
      }
      grpcOff = `off: port ${options.grpcPort} is in use (choose one with --grpc-port)`;
      warn(`linktrace: OTLP/gRPC receiver not started: port ${options.grpcPort} is in use; pass --grpc-port <port> (0 turns it off)`);
    }
  }
  const grpcAddress = grpc === undefined ? undefined : `${hostForUrl(address)}:${grpc.port}`;
  const { recovery } = app.linktrace;
  const flowCount = app.linktrace.checker?.flows.contracts.length ?? 0;
  const sinkNames = app.linktrace.alerts?.status().map((s) => s.sink) ?? [];
  // One write, so that whoever reads the output sees the whole banner at once.
  print(
    [
      `linktrace: listening on ${url}`,
      `  OTLP/HTTP  POST ${url}/v1/traces   (protobuf or JSON, gzip)`,
      `  OTLP/gRPC  ${grpcAddress === undefined ? grpcOff : `http://${grpcAddress}   (TraceService/Export, gzip)`}`,
      `  Zipkin     POST ${url}/api/v2/spans`,
      `  native     POST ${url}/api/v1/spans`,
      `  query API  ${url}/api/v2/ (Zipkin)  ${url}/api/v1/ (native)`,
      `  health     ${url}/healthz   metrics ${url}/metrics`,
      `  web UI     ${options.uiDir === false ? 'off (--no-ui)' : `${url}/   (from ${options.uiDir}${existsSync(join(options.uiDir, 'index.html')) ? '' : ', not built yet: npm run build'})`}`,
      `  data       ${options.dataDir}${options.token === undefined ? '' : '   (token required)'}${readOnly === undefined ? '' : '   READ-ONLY: no room to write, ingest refused (507) until space is free'}`,
      // Where spans go when it is not the data directory: the operator should not have to read the command line.
      ...(options.store !== undefined && options.store.kind !== 'embedded' ? [`  store      ${options.store.display}   (the write-ahead log stays in data)`] : []),
      `  retention  ${options.retentionMs === 0 ? 'off (data kept forever)' : `${formatDurationUs(options.retentionMs * 1000)} after arrival`}`,
      `  sampling   ${options.sampling === undefined ? 'off (every trace kept)' : `keep ${describeSampling(options.sampling)}`}`,
      `  remedies   ${options.remedies === undefined ? 'off (--remedy-token, --remedy-secret)' : `on: POST ${url}/api/v1/findings/{id}/remedy with the remedy token`}`,
      options.checkerOff === true
        ? '  checker    off'
        : `  checker    after ${options.checkDelayMs} ms quiet (at most ${options.checker.maxWaitMs ?? options.checkDelayMs} ms), ${flowCount} flows, alerts: ${sinkNames.length === 0 ? 'none' : sinkNames.join(', ')}`,
    ].join('\n'),
  );
  if (recovery.records > 0) print(`linktrace: recovered ${recovery.spans} spans from ${recovery.records} write-ahead log records`);
  if (recovery.tornBytes > 0) warn(`linktrace: dropped a torn write-ahead log tail of ${recovery.tornBytes} bytes (never acknowledged)`);
  if (recovery.damaged.length > 0) warn(`linktrace: skipped ${recovery.damaged.length} damaged write-ahead log records (see the log for segments and offsets); every later record was replayed`);

  const retention = new RetentionJob({ store, retentionMs: options.retentionMs, clock, print, warn, registry: app.linktrace.metrics.registry, sdkDrops: app.linktrace.sdkDrops });
  // A read-only store cannot delete; retention resumes with the next start that can write.
  if (readOnly === undefined) retention.start();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      retention.stop();
      try {
        // gRPC first: calls under way finish (their spans reach the log) while the HTTP side still runs.
        await grpc?.close(SHUTDOWN_GRPC_MS);
        await app.close();
      } finally {
        await store.close();
      }
    })());
  return { app, store, url, grpcAddress, retention, close };
}

/**
 * Runs the server until SIGINT/SIGTERM; a second signal exits at once. The handlers are installed
 * before the server starts, so a signal that arrives while it starts (or just after it printed where
 * it listens) still shuts it down cleanly instead of killing the process outright.
 */
export async function runServe(options: ServeOptions): Promise<void> {
  const started: { server?: RunningServer } = {};
  let pending: NodeJS.Signals | undefined;
  let signalled = false;
  const shutDown = (running: RunningServer, signal: NodeJS.Signals): void => {
    const backlog = running.app.linktrace.pipeline.backlogSpans;
    process.stdout.write(`linktrace: ${signal}: shutting down${backlog > 0 ? ` (storing ${backlog} queued spans)` : ''}\n`);
    running.close().then(
      () => {
        process.stdout.write('linktrace: stopped\n');
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`linktrace: shutdown failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      process.stderr.write(`linktrace: ${signal} again, exiting without draining (the write-ahead log keeps the backlog)\n`);
      process.exit(130);
    }
    signalled = true;
    if (started.server === undefined) {
      pending = signal;
      starting.abort();
    } else shutDown(started.server, signal);
  };
  // Ends a wait for an unreachable store: the signal would otherwise wait for a start that may never come.
  const starting = new AbortController();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let server: RunningServer;
  try {
    server = await startServer(options, { signal: starting.signal });
  } catch (error) {
    if (!(error instanceof StoreWaitAborted)) throw error;
    process.stdout.write(`linktrace: ${pending ?? 'SIGTERM'}: ${error.message}\nlinktrace: stopped\n`);
    process.exit(0);
  }
  started.server = server;
  if (pending !== undefined) shutDown(server, pending);
}

/** The chain checker's flags, shared by `serve` and the `checker` role (parsed by `serveOptions`). */
export function addCheckerOptions(command: Command): Command {
  return command
    .option('--check-delay <duration>', 'quiet time before a trace is checked, e.g. 30s', SERVE_DEFAULTS.checkDelay)
    .option('--max-wait <duration>', 'check a trace this long after its first span even if spans keep coming', SERVE_DEFAULTS.maxWait)
    .option('--deadline <duration>', 'rule deadline for consumers, downstream receives and unfinished spans (default: the check delay)')
    .option('--slow-chain <duration>', 'report a slow-chain finding when first receive -> last write takes longer')
    .option('--flows <file>', 'flow contracts (YAML subset, or JSON when the name ends in .json)')
    .option('--alert-webhook <url>', 'POST new findings as JSON to this URL (repeatable)', (url: string, prev: string[] = []) => [...prev, url])
    .option('--sentry-dsn <dsn>', 'send new findings to Sentry as events')
    .option('--alert-log', 'write one line per new finding on stderr');
}

/** Adds `serve` to the `linktrace` program. */
export function register(program: Command): void {
  const serve = program
    .command('serve')
    .description('receive spans (OTLP, Zipkin, native), store them in an embedded database and answer queries')
    .option('--port <port>', 'port to listen on (0 picks a free one)', SERVE_DEFAULTS.port)
    .option('--grpc-port <port>', `OTLP/gRPC port (default ${SERVE_DEFAULTS.grpcPort}; 0 turns gRPC off)`)
    .option('--host <host>', 'address to listen on (0.0.0.0 for every interface)', SERVE_DEFAULTS.host)
    .option('--data <dir>', 'data directory (database and write-ahead log)', SERVE_DEFAULTS.data)
    .option('--token <token>', 'require Authorization: Bearer <token> on every route but /healthz (or set LINKTRACE_TOKEN)')
    .option('--allow-anonymous-writes', 'without --token, accept requests that change the server (flow contracts) from anyone')
    .option('--retention <duration>', 'keep spans this long after they arrived, e.g. 36h, 7d, 2w; 0 or off keeps them forever', SERVE_DEFAULTS.retention);
  addCheckerOptions(serve)
    .option('--max-request-size <size>', 'largest request body as sent, e.g. 4mb')
    .option('--max-decompressed-size <size>', 'largest gzip body once decompressed, e.g. 16mb')
    .option('--max-decompressing <size>', 'bytes being decompressed at once across all requests (past it: 429), e.g. 64mb')
    .option('--max-spans <n>', 'most spans in one request')
    .option('--max-attributes <n>', 'most attributes in one map (span, resource, event, link)')
    .option('--max-attribute-length <n>', 'longest attribute value (characters, or bytes for bytes values)')
    .option('--max-backlog <n>', 'most accepted spans waiting for the store before ingest answers 429')
    .option('--max-future <duration>', "refuse spans that start more than this after the server's clock, e.g. 1h")
    .option('--header-timeout <duration>', `close a connection whose request line and headers take longer (default: ${DEFAULT_TIMEOUTS.headerMs / 1000}s)`)
    .option('--body-timeout <duration>', `close a connection whose whole request, body included, takes longer (default: ${DEFAULT_TIMEOUTS.bodyMs / 1000}s)`)
    .option('--idle-timeout <duration>', `close a kept-alive connection idle this long between requests (default: ${DEFAULT_TIMEOUTS.idleMs / 1000}s)`)
    .option('--max-memory <size>', 'memory the backlog and the chain checker may hold together, e.g. 512mb (default: an eighth of the machine memory or of the heap limit, the smaller)')
    .option('--store <url>', 'where spans are stored: a directory (embedded, default: the data directory) or clickhouse://[user[:password]@]host:8123/database')
    .option('--store-format <format>', 'how a new embedded data directory stores spans: duckdb (one DuckDB file, the default) or blocks (Parquet block files); an existing one keeps its own')
    .option('--clickhouse-cluster <name>', 'with --store clickhouse://…: use Distributed tables over this cluster of <remote_servers>')
    .option('--keep <policies>', 'tail sampling: keep whole traces with an error, a finding or a slow span (error,finding,slow), all, or none; the rest only within --keep-rate')
    .option('--keep-rate <rate>', 'tail sampling: keep this many other traces, e.g. 100/s (default 0/s with --keep; alone it keeps error,finding,slow too)')
    .option('--keep-window <duration>', 'tail sampling: a drop waits this long for a kept trace of the same flow to keep it too (default: 2 check delays)')
    .option('--keep-max-pending <n>', `tail sampling: most drop decisions waiting for their window (default ${DEFAULT_KEEP_MAX_PENDING})`)
    .option('--remedy-token <token>', 'turn remedies on: the token that may request one (POST /api/v1/findings/{id}/remedy); needs --remedy-secret')
    .option('--remedy-secret <secret>', 'secret shared with the instances that run remedies, signs what they are asked (or set LINKTRACE_REMEDY_SECRET)')
    .option('--remedy-ttl <duration>', 'a remedy no live instance claimed within this expires (default 1h)')
    .option('--ui <dir>', 'serve the web UI from this directory (default: the built packages/web)')
    .option('--no-ui', 'do not serve the web UI')
    .action(async (flags: ServeFlags) => {
      let options: ServeOptions;
      try {
        options = parseServeFlags(flags, process.env);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        process.stderr.write(`linktrace serve: ${error.message}\n`);
        process.exit(2);
      }
      try {
        await runServe(options);
      } catch (error) {
        process.stderr.write(`linktrace serve: could not start: ${(error as Error).message}\n`);
        process.exit(1);
      }
    });
}
