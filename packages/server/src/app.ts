/**
 * The Linktrace HTTP app: receivers, write-ahead log, pipeline into the store, health and metrics,
 * the optional bearer token, and one error shape for everything (DESIGN §5). Query routes plug in
 * through `extraRoutes`.
 */
import { join } from 'node:path';
import type { Span } from '@linktrace/model';
import type { SpanStore } from '@linktrace/storage';
import { RemedyService } from './remedies/remedy-service.js';
import type { RemedyOptions } from './remedies/remedy-options.js';
import { registerRemediesOff, registerRemedyRoutes } from './remedies/remedy-routes.js';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { createShellFastify, installShellHooks } from './http/app-shell.js';
import type { HttpTimeouts } from './http/timeouts.js';
import { ConfigError, DEFAULT_WAL, resolveLimits, resolvePipeline, type IngestLimits, type PipelineOptions, type WalOptions } from './config.js';
import { ServerMetrics } from './metrics.js';
import { QueriesFirst } from './pipeline/queries-first.js';
import { IngestPipeline } from './pipeline/ingest-pipeline.js';
import type { IngestStore } from './pipeline/ingest-store.js';
import { isWalTag, recoverWal, type RecoveryReport } from './pipeline/replay-wal.js';
import { WriteAheadLog } from './wal/write-ahead-log.js';
import { registerIngestRoutes } from './routes/ingest-routes.js';
import { RefusalLog, type RefusalLogOptions } from './ingest/refusal-log.js';
import { ByteBudget } from './ingest/byte-budget.js';
import type { ReceiverContext } from './ingest/receive.js';
import { registerHealthCheckRoute } from './routes/health-check.js';
import { registerMetricsRoute } from './routes/health-metrics.js';
import type { AlertDispatcher } from './alerts/alert-dispatcher.js';
import type { ChainChecker } from './checker/chain-checker.js';
import type { CheckerOptions } from './checker/checker-options.js';
import { createChecker, type CheckerAlerts } from './checker/create-checker.js';
import { defaultMemoryBudget, MemoryBudget } from './memory-budget.js';
import { isCheckerStore } from './checker/checker-store.js';
import { registerFlowRoutes } from './routes/flows-routes.js';
import { isSdkDropStore, SdkDropTracker } from './sdk-drops/sdk-drop-tracker.js';
import { registerSdkDropGauge } from './sdk-drops/sdk-drop-metrics.js';
import { RedMetrics } from './red/red-metrics.js';
import { edgeBoundsWithin } from './red/red-edges.js';
import { registerRedRoute } from './red/red-route.js';
import { createSampler, samplingHealth } from './sampling/create-sampler.js';
import type { SamplingOptions } from './sampling/keep-options.js';
import type { TailSampler } from './sampling/tail-sampler.js';

export interface AppOptions {
  /**
   * Start read-only: the disk had no room (`reason`). The log is not opened for writing nor replayed;
   * queries work, ingest answers 507 and `/healthz` says why. Serve falls back to this on a full disk.
   */
  readOnly?: Error;
  /** Where accepted spans end up. Any `SpanStore` of @linktrace/storage fits. The app does not close it. */
  store: IngestStore;
  /** The write-ahead log lives in `<dataDir>/wal/`. */
  dataDir: string;
  /** When set, every route but /healthz requires `Authorization: Bearer <token>`. */
  token?: string;
  /** Without a token, write routes (flow contracts) are refused unless this is true (`--allow-anonymous-writes`). */
  allowAnonymousWrites?: boolean;
  limits?: Partial<IngestLimits>;
  pipeline?: Partial<PipelineOptions>;
  wal?: Partial<WalOptions>;
  /** Header, body and idle timeouts of client connections (http/timeouts.ts). */
  timeouts?: Partial<HttpTimeouts>;
  /** More routes (the query API), registered in their own scope with the app's hooks and error handler. */
  extraRoutes?: (app: FastifyInstance) => void | Promise<void>;
  /** Fastify's logger option; off by default. */
  logger?: FastifyServerOptions['logger'];
  /** How often refusals a protocol cannot report (Zipkin's 202) are named in the log; tests inject a clock. */
  refusalLog?: RefusalLogOptions;
  /** Also export Node process metrics (memory, CPU, event loop) on /metrics. */
  processMetrics?: boolean;
  /** How long closing waits for a failing store before leaving the backlog in the log. Default 30 s. */
  shutdownTimeoutMs?: number;
  /**
   * Runs the streaming chain checker on every stored span, with the flow routes. The store must
   * then be a whole `SpanStore` (it reads traces back and stores findings).
   */
  checker?: CheckerOptions;
  /** Where the checker's new findings are sent. */
  alerts?: CheckerAlerts;
  /**
   * The clock the server decides by, ms since the epoch (default `Date.now`): when the checker finds
   * a trace due, alert deduplication, and ingest's time-sanity check (`--max-future`). Tests pass a
   * manual clock.
   */
  clock?: () => number;
  /**
   * Bytes the ingest backlog and the chain checker may hold together (`--max-memory`); default
   * `defaultMemoryBudget()`, from the machine's memory and the heap limit.
   */
  maxMemoryBytes?: number;
  /**
   * Tail sampling (`--keep`): decides per checked trace whether it stays in the store. Needs the
   * checker, and a store that deletes traces. Absent: every trace is kept.
   */
  sampling?: SamplingOptions;
  /** Called with every batch once it is durable in the store, after the checker's feed (the federated agent learns its instances here). */
  onStored?: (spans: readonly Span[]) => void;
  /** Called with every batch once it is durable in the write-ahead log, before the store has it (IngestPipeline). */
  onDurable?: (spans: readonly Span[]) => void;
  /**
   * Remedies (`--remedy-token`, `--remedy-secret`): findings can be repaired by the instances that
   * registered handlers (remedies/). Needs a store that reads traces and findings. Absent: off.
   */
  remedies?: Partial<RemedyOptions>;
}

/** What the app holds, for the CLI and tests (`app.linktrace`). */
export interface LinktraceState {
  pipeline: IngestPipeline;
  wal: WriteAheadLog;
  metrics: ServerMetrics;
  limits: IngestLimits;
  /** The bytes being decompressed across all ingest requests (limits.maxDecompressingBytes). */
  decompressBudget: ByteBudget;
  /** The memory budget shared by the backlog and the checker. */
  memory: MemoryBudget;
  /** What start-up recovered from the log left by the previous run. */
  recovery: RecoveryReport;
  /** The chain checker, when enabled. */
  checker?: ChainChecker;
  alerts?: AlertDispatcher;
  /** The latest `linktrace.sdk.dropped_spans` per service instance, read at ingest. */
  sdkDrops: SdkDropTracker;
  /** What every receiver shares (limits, pipeline, metrics): the gRPC receiver, outside Fastify, uses it too. */
  receivers?: ReceiverContext;
  /** RED metrics (rate, errors, durations) per service, operation and edge, counted at ingest. */
  red: RedMetrics;
  /** Tail sampling, when on. */
  sampler?: TailSampler;
  /** Queries under way (GETs under /api/), which the pipeline's background work waits for, briefly. */
  queries: QueriesFirst;
  /** Remedies, when on. */
  remedies?: RemedyService;
}

declare module 'fastify' {
  interface FastifyInstance {
    linktrace: LinktraceState;
  }
}

/** The bearer-token check (its home is http/token-check.ts; serve and tests import it from here). */
export { tokenCheck } from './http/token-check.js';

/**
 * Opens the write-ahead log under `dataDir`, stores what a previous run left in it, and returns the
 * app, ready to `listen`. `app.close()` stops taking requests, drains the backlog into the store and
 * closes the log (the store stays open: it belongs to the caller).
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const limits = resolveLimits(options.limits);
  const pipelineOptions = resolvePipeline(options.pipeline);
  const walOptions: WalOptions = { ...DEFAULT_WAL, ...options.wal };
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
  const maxMemoryBytes = options.maxMemoryBytes ?? defaultMemoryBudget();
  if (!Number.isSafeInteger(maxMemoryBytes) || maxMemoryBytes <= 0) throw new ConfigError(`maxMemoryBytes: ${String(maxMemoryBytes)} is not a positive whole number`);
  const memory = new MemoryBudget(maxMemoryBytes);

  let metrics: ServerMetrics | undefined;
  const walDir = join(options.dataDir, 'wal');
  const walOpenOptions = { segmentBytes: walOptions.segmentBytes, isValidTag: isWalTag, onFlush: (records: number) => metrics?.walFlushed(records) };
  const wal = options.readOnly !== undefined ? WriteAheadLog.openReadOnly(walDir, walOpenOptions, options.readOnly) : await WriteAheadLog.open(walDir, walOpenOptions);
  let pipeline: IngestPipeline;
  const queries = new QueriesFirst({ maxPauseMs: pipelineOptions.queryPauseMs });
  let app: FastifyInstance;
  let checker: ChainChecker | undefined;
  let alerts: AlertDispatcher | undefined;
  let red: RedMetrics;
  // What SDKs report they lost, read from every stored batch (the WAL replay included); seeded from the store.
  const clockMs = options.clock ?? Date.now;
  const sdkDrops = new SdkDropTracker(
    isSdkDropStore(options.store) ? options.store : undefined,
    (line) => app.log.warn(line),
    () => clockMs() * 1000,
  );
  try {
    await sdkDrops.load();
    metrics = new ServerMetrics(
      {
        backlogSpans: () => pipeline.backlogSpans,
        walBytes: () => wal.stats().bytes,
        walSegments: () => wal.stats().segments,
      },
      { processMetrics: options.processMetrics === true },
    );
    registerSdkDropGauge(metrics.registry, sdkDrops);
    red = await RedMetrics.open(options.dataDir, metrics.registry, options.clock ?? Date.now, (line) => app.log.warn(line), {
      mayGrow: () => memory.redMayGrow(),
      edges: edgeBoundsWithin(memory.redEdgeBytes),
    });
    const redState = red;
    memory.measure({ red: () => redState.bytes });
    const sampler = createSampler(options, red, metrics.registry, (line) => app.log.warn(line));
    if (options.checker !== undefined) {
      const store = options.store;
      if (!isCheckerStore(store)) throw new ConfigError('the chain checker needs a store that reads traces and stores findings (a SpanStore)');
      ({ checker, alerts } = createChecker({
        store,
        options: options.checker,
        alerts: options.alerts,
        dataDir: options.dataDir,
        registry: metrics.registry,
        warn: (line) => app.log.warn(line),
        sdkDrops: () => sdkDrops.lossyReports(),
        clock: options.clock,
        memory,
        sampler,
      }));
    }
    const feed = checker;
    pipeline = new IngestPipeline(
      options.store,
      wal,
      pipelineOptions,
      metrics,
      (spans) => {
        sdkDrops.observe(spans);
        red.observe(spans);
        feed?.spansStored(spans);
        options.onStored?.(spans);
      },
      memory,
      options.clock ?? Date.now,
      queries,
      options.onDurable,
    );
    memory.register(metrics.registry);
    app = createShellFastify({ maxRequestBytes: limits.maxRequestBytes, timeouts: options.timeouts, logger: options.logger, metrics: () => metrics });
    const warn = (message: string): void => app.log.warn(message);
    const recovery = await recoverWal(wal, (spans, arrivedUs) => pipeline.restore(spans, arrivedUs), pipelineOptions.storeBatchSpans, warn, () => pipeline.makeDurable());
    metrics.walDamagedRecords(recovery.damaged.length);
    if (recovery.records > 0 || recovery.tornBytes > 0) {
      app.log.info(`write-ahead log: replayed ${recovery.records} records (${recovery.spans} spans), dropped ${recovery.tornBytes} torn bytes`);
    }
    pipeline.start();
    if (options.readOnly === undefined) red.start();
    const state: LinktraceState = { pipeline, wal, metrics, limits, decompressBudget: new ByteBudget(limits.maxDecompressingBytes), memory, recovery, sdkDrops, red, sampler, queries };
    if (checker !== undefined) {
      // Before the routes answer: GET /api/v1/flows must list the contracts declared through the API by a previous run.
      await checker.flows.load((line) => app.log.warn(line));
      state.checker = checker;
      state.alerts = alerts;
      // In the background: start-up re-opens the traces a previous run left unchecked.
      void checker.start();
    }
    if (options.remedies !== undefined) {
      const store = options.store;
      if (!isCheckerStore(store) || typeof (store as Partial<SpanStore>).getTrace !== 'function') throw new ConfigError('remedies need a store that reads traces and findings (a SpanStore)');
      const openChecker = checker;
      state.remedies = new RemedyService({
        dataDir: options.dataDir,
        options: options.remedies,
        store: store as unknown as SpanStore,
        checking: (traceId) => openChecker?.holds(traceId) ?? false,
        ...(openChecker !== undefined && { checkNow: (spans: readonly Span[]) => openChecker.checkSpans(spans) }),
        clock: options.clock,
        warn: (line) => app.log.warn(line),
      });
    }
    app.decorate('linktrace', state);
  } catch (error) {
    await wal.close();
    throw error;
  }
  const appMetrics = metrics;

  installShellHooks(app, appMetrics, limits.maxRequestBytes, {
    token: options.token,
    allowAnonymousWrites: options.allowAnonymousWrites === true,
    retryAfterSeconds: pipelineOptions.retryAfterSeconds,
    // Every GET under /api/ reads the store: the pipeline's background work waits for it (queries-first.ts).
    onRequest: (request, reply) => {
      if (request.method === 'GET' && request.url.startsWith('/api/')) reply.raw.once('close', queries.begin());
    },
  });
  app.addHook('onClose', async () => {
    const { drained } = await pipeline.stop(shutdownTimeoutMs);
    if (!drained) app.log.warn('closing: the store did not take the whole backlog; the write-ahead log keeps it for the next start');
    // After the drain (its spans reach the checker); traces still open are re-opened by the next start.
    await checker?.stop();
    await red.stop();
    await wal.close();
  });

  const receiverContext: ReceiverContext = {
    limits,
    pipeline,
    metrics: appMetrics,
    refusals: new RefusalLog((line) => app.log.warn(line), options.refusalLog),
    decompressBudget: app.linktrace.decompressBudget,
    retryAfterSeconds: pipelineOptions.retryAfterSeconds,
    clock: options.clock ?? Date.now,
  };
  app.linktrace.receivers = receiverContext;
  await registerIngestRoutes(app, receiverContext);
  registerHealthCheckRoute(app, { pipeline, wal, store: options.store, memory });
  registerMetricsRoute(app, appMetrics);
  registerRedRoute(app, app.linktrace.red);
  const openChecker = checker;
  if (openChecker !== undefined) {
    registerFlowRoutes(app, openChecker.flows);
    const sinks = alerts;
    // /healthz also reports the checker (open traces, overflow) and the alert sinks.
    app.addHook('preSerialization', (request, _reply, payload, done) => {
      if (request.routeOptions.url !== '/healthz' || typeof payload !== 'object' || payload === null) return done(null, payload);
      done(null, { ...payload, checker: openChecker.status(), alerts: sinks?.status() ?? [], ...samplingHealth(app.linktrace.sampler) });
    });
  }
  const remedies = app.linktrace.remedies;
  if (remedies !== undefined) {
    registerRemedyRoutes(app, { book: remedies.book, audit: remedies.audit, options: remedies.options, store: options.store as unknown as SpanStore, clock: options.clock ?? Date.now });
    remedies.start();
    app.addHook('onClose', async () => {
      await remedies.stop();
    });
  } else registerRemediesOff(app);
  const extra = options.extraRoutes;
  if (extra !== undefined) {
    await app.register(async (scope) => {
      await extra(scope);
    });
  }
  return app;
}
