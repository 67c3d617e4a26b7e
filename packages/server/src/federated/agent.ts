/**
 * `linktrace agent`: the federated store's per-host role (DESIGN §8). It is `serve`'s composition —
 * the same receivers, write-ahead log, embedded store and retention — without the UI, and without
 * the chain checker on its own spans with the rules one host can settle (`--no-local-check` drops it; the gateway checks whole traces on demand), plus `GET /api/v1/agent` (who it is, which instances it serves) and a heartbeat
 * to the gateway. SDKs send to it as to a server (`LINKTRACE_ENDPOINT`).
 */
import type { Command } from 'commander';
import { defaultIpv4, encodeNativeJson } from '@linktrace/model';
import { agentBaseUrl, type AgentInfo } from '@linktrace/storage';
import { ConfigError, parseDuration } from '../config.js';
import { parseServeFlags, startServer, type RunningServer, type ServeFlags, type ServeOptions, type StartOptions } from '../cli/serve.js';
import { queryHandler } from '../routes/query-handler.js';
import { AgentBook, parseServes } from './agent-book.js';
import { AgentHeartbeat } from './agent-heartbeat.js';
import { RecentTraces } from './recent-traces.js';

const NATIVE_TRACE = /^\/api\/v1\/traces\/([0-9a-f]{32})\?format=native$/;

export interface AgentFlags {
  port?: string;
  grpcPort?: string;
  host?: string;
  data?: string;
  retention?: string;
  token?: string;
  checkDelay?: string;
  gateway?: string;
  advertise?: string;
  serves?: string;
  heartbeat?: string;
  /** Token the gateway wants on heartbeats. */
  gatewayToken?: string;
  /** `--store-format duckdb|blocks`: how a new data directory stores spans (serve's flag). */
  storeFormat?: string;
  /** `--no-local-check` (false): no chain checker on this agent's spans. Default true. */
  localCheck?: boolean;
}

export interface AgentOptions {
  serve: ServeOptions;
  gateway?: string;
  /** The URL the gateway reads from; default `http://<host>:<port>`. */
  advertise?: string;
  serves: { addresses: string[]; queues: string[] };
  heartbeatMs: number;
  gatewayToken?: string;
}

export const AGENT_DEFAULTS = { port: '4318', data: './linktrace-agent-data', heartbeat: '5s', checkDelay: '30s' } as const;

/**
 * The agent's store gathers spans this long before a batch goes in. Measured (bench:federated's CPU
 * part): batches of a few hundred spans, as SDKs send them, each go through DuckDB's own log and are
 * compressed again at its checkpoint; a second's worth in one batch costs markedly less CPU per
 * span. Reads by trace id do not wait for it: recent traces are answered from memory
 * (recent-traces.ts), fed as soon as spans are in the write-ahead log; only the store (searches,
 * older traces) has them up to this much later than under `serve`.
 */
export const AGENT_STORE_FLUSH_MS = 1000;

export function parseAgentFlags(flags: AgentFlags, env: NodeJS.ProcessEnv = {}): AgentOptions {
  const serveFlags: ServeFlags = {
    port: flags.port ?? AGENT_DEFAULTS.port,
    grpcPort: flags.grpcPort ?? '0',
    host: flags.host,
    data: flags.data ?? AGENT_DEFAULTS.data,
    retention: flags.retention,
    token: flags.token,
    checkDelay: flags.checkDelay ?? AGENT_DEFAULTS.checkDelay,
    storeFormat: flags.storeFormat,
    ui: false,
  };
  const serve = parseServeFlags(serveFlags, env);
  serve.grpcPortDefault = false;
  // The chain checker runs on the agent's own spans (issue 15), with the rules that can be judged on
  // one host only: an agent sees one hop of a trace, so the rules that need the other side of a call
  // would fire falsely (the gateway checks whole traces when they are read). `--no-local-check`
  // drops it, the largest per-span cost an agent can drop (bench:federated).
  serve.checkerOff = flags.localCheck === false;
  serve.checker.hostLocal = true;
  // Without the search summaries: a search on an agent computes its hits' summaries instead (the
  // gateway only reads traces by id), and each batch skips their refresh (~5 µs of ~26 per span).
  if (serve.store?.kind === 'embedded') {
    serve.store.flushIntervalMs = AGENT_STORE_FLUSH_MS;
    serve.store.traceSummaries = false;
  }
  const out: AgentOptions = { serve, serves: { addresses: [], queues: [] }, heartbeatMs: parseDuration(flags.heartbeat ?? AGENT_DEFAULTS.heartbeat, '--heartbeat') };
  if (out.heartbeatMs < 100 || out.heartbeatMs > 3_600_000) throw new ConfigError('--heartbeat: must be between 100ms and 1h');
  try {
    if (flags.gateway !== undefined) out.gateway = agentBaseUrl(flags.gateway, '--gateway');
    if (flags.advertise !== undefined) out.advertise = agentBaseUrl(flags.advertise, '--advertise');
    if (flags.serves !== undefined) out.serves = parseServes(flags.serves);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const gatewayToken = flags.gatewayToken ?? env.LINKTRACE_GATEWAY_TOKEN;
  if (gatewayToken !== undefined) out.gatewayToken = gatewayToken;
  return out;
}

export interface RunningAgent {
  server: RunningServer;
  /** The URL it advertises to the gateway. */
  url: string;
  book: AgentBook;
  heartbeat?: AgentHeartbeat;
  info(): AgentInfo;
  close(): Promise<void>;
}

function advertisedUrl(options: AgentOptions, listening: string): string {
  if (options.advertise !== undefined) return options.advertise;
  const u = new URL(listening);
  // Listening on every interface: the gateway reaches it at this host's address.
  if (u.hostname === '0.0.0.0' || u.hostname === '[::]') u.hostname = defaultIpv4();
  return u.href.replace(/\/+$/, '');
}

export async function startAgent(options: AgentOptions, start: StartOptions = {}): Promise<RunningAgent> {
  const print = start.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const warn = start.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const clock = start.clock ?? Date.now;
  const book = AgentBook.inDataDir(options.serve.dataDir, options.serves);
  const startedAtMs = clock();
  const recent = new RecentTraces(startedAtMs);
  let url = '';
  const info = (): AgentInfo => ({ agent: url, heartbeatMs: options.heartbeatMs, startedAtMs, ...book.snapshot(), spansStored: book.spansStored });
  const server = await startServer(options.serve, {
    ...start,
    print,
    warn,
    // As soon as they are acknowledged, not when the store has them: the store gathers a second of
    // spans per batch (AGENT_STORE_FLUSH_MS), and a trace read in that second must neither miss a
    // hop (the memory of recent traces) nor be walked before its instances are known (the book).
    onDurable: (spans) => {
      book.observe(spans);
      recent.observe(spans);
      start.onDurable?.(spans);
    },
    extraRoutes: async (app, store) => {
      if ((await store.stats()).spanRecords === 0) recent.storeWasEmpty();
      // What the gateway asks most: a recent trace's spans, answered from memory (the store when not there).
      app.addHook('onRequest', (request, reply, done) => {
        const m = request.method === 'GET' ? NATIVE_TRACE.exec(request.url) : null;
        const spans = m === null ? undefined : recent.get(m[1]!);
        if (spans === undefined || spans.length === 0) return done();
        void reply.type('application/json; charset=utf-8').send(JSON.stringify(encodeNativeJson(spans)));
      });
      app.get(
        '/api/v1/agent',
        queryHandler(() => Promise.resolve({ ...info(), gateway: options.gateway ?? null, overflow: book.overflow })),
      );
      await start.extraRoutes?.(app, store);
    },
  });
  url = advertisedUrl(options, server.url);
  // What was learned is kept across restarts; saved with each heartbeat tick (or every 5 s).
  const saver = setInterval(() => {
    try {
      book.save();
    } catch (error) {
      warn(`linktrace agent: cannot save ${(error as Error).message}`);
    }
  }, Math.min(options.heartbeatMs, 5000));
  saver.unref();
  let heartbeat: AgentHeartbeat | undefined;
  if (options.gateway !== undefined) {
    heartbeat = new AgentHeartbeat({ gateway: options.gateway, intervalMs: options.heartbeatMs, info, token: options.gatewayToken, warn, print });
    heartbeat.start();
  }
  print(`linktrace agent: ${url}   gateway: ${options.gateway ?? 'none (--gateway <url>)'}   heartbeat every ${options.heartbeatMs} ms   serves: ${[...options.serves.addresses, ...options.serves.queues.map((q) => `queue:${q}`)].join(', ') || 'what its spans show'}`);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      clearInterval(saver);
      await heartbeat?.stop();
      try {
        book.save();
      } catch {
        // the store is what matters; the book is learned again
      }
      await server.close();
    })());
  return { server, url, book, heartbeat, info, close };
}

/** Runs until SIGINT/SIGTERM. */
async function runAgent(options: AgentOptions): Promise<void> {
  const started: { agent?: RunningAgent } = {};
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) process.exit(130);
    signalled = true;
    process.stdout.write(`linktrace agent: ${signal}: shutting down\n`);
    const done = started.agent === undefined ? Promise.resolve() : started.agent.close();
    done.then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`linktrace agent: shutdown failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  started.agent = await startAgent(options);
}

export function register(program: Command): void {
  program
    .command('agent')
    .description('federated mode: store the spans of the instances on this host and answer the gateway for them')
    .option('--port <port>', 'port SDKs send to and the gateway reads from (0 picks a free one)', AGENT_DEFAULTS.port)
    .option('--grpc-port <port>', 'OTLP/gRPC port (default 0: off)')
    .option('--host <host>', 'address to listen on (0.0.0.0 for every interface)', '127.0.0.1')
    .option('--data <dir>', 'data directory (database, write-ahead log, what the agent learned)', AGENT_DEFAULTS.data)
    .option('--store-format <format>', 'how a new data directory stores spans: duckdb (one DuckDB file) or blocks (Parquet block files); an existing one keeps its own')
    .option('--retention <duration>', 'keep spans this long after they arrived; 0 or off keeps them forever', '7d')
    .option('--token <token>', 'require Authorization: Bearer <token> from SDKs and the gateway (or set LINKTRACE_TOKEN)')
    .option('--no-local-check', "no chain checker on this agent's spans (by default it runs the rules that one host's spans can settle; the gateway checks whole traces when read)")
    .option('--check-delay <duration>', 'quiet time before the local chain check of a trace', AGENT_DEFAULTS.checkDelay)
    .option('--gateway <url>', 'the gateway to send heartbeats to (the agent works without one)')
    .option('--gateway-token <token>', 'token the gateway requires on heartbeats (or set LINKTRACE_GATEWAY_TOKEN)')
    .option('--advertise <url>', 'URL the gateway reaches this agent at (default: http://<host>:<port>)')
    .option('--serves <list>', 'addresses and queues of the instances it serves, besides those its spans show: host:port, host:* or queue:<name>, comma-separated')
    .option('--heartbeat <duration>', 'how often to tell the gateway it is alive', AGENT_DEFAULTS.heartbeat)
    .action(async (flags: AgentFlags) => {
      let options: AgentOptions;
      try {
        options = parseAgentFlags(flags, process.env);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        process.stderr.write(`linktrace agent: ${error.message}\n`);
        process.exit(2);
      }
      try {
        await runAgent(options);
      } catch (error) {
        process.stderr.write(`linktrace agent: could not start: ${(error as Error).message}\n`);
        process.exit(1);
      }
    });
}
