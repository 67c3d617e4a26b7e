/**
 * Runs the remedies the server asks this instance for (docs/remedies.md). The instance registers, per
 * stage and operation, a `replay` (run the missing step again for an entity and version) and
 * optionally an `undo` (revert a duplicate); the agent long-polls the server for work, checks each
 * delivery's signature with the shared secret, runs it at most once (its id is the idempotency key)
 * in a new trace linked to the broken one, and reports the outcome, signed. Handlers get the finding's
 * entity, version and target only, never stored payloads.
 */
import { REMEDY_ATTR, signRemedyResult, verifyRemedy, type RemedyAction, type RemedyDelivery, type RemedyResult } from '@linktrace/model';
import { Context } from '../context/context.js';
import { runWithContext } from '../context/context-manager.js';
import { HttpTransport } from '../export/http-transport.js';
import { parseRetryAfter } from '../export/retry-after.js';
import { retryDelayMs, type RetryPolicy } from '../export/retry-delay.js';
import type { Tracing } from '../trace/tracing.js';

/**
 * What a handler is told: the delivery's entity, version and target (`id`: pass it on as an
 * idempotency key where the step writes; `traceId`/`spanId`: the broken chain).
 */
export type RemedyRequest = Pick<RemedyDelivery, 'id' | 'action' | 'stage' | 'operation' | 'entity' | 'target' | 'traceId' | 'spanId'> & {
  rule: string;
  /** Aborted when the handler's time is up. */
  signal: AbortSignal;
};

/** What a handler may return: nothing (done), or that a newer version made the remedy moot. */
export type RemedyOutcome = void | { superseded: true; reason?: string };

export type RemedyHandler = (request: RemedyRequest) => RemedyOutcome | Promise<RemedyOutcome>;

export interface RemedyHandlers {
  stage: string;
  /** Default: every operation of the stage. */
  operation?: string;
  replay: RemedyHandler;
  undo?: RemedyHandler;
}

export interface RemedyAgentOptions {
  tracing: Tracing;
  /** The Linktrace server, e.g. `http://127.0.0.1:4318` (the SDK's LINKTRACE_ENDPOINT). */
  endpoint: string;
  /** The server's `--token`, when it has one. */
  token?: string;
  /** The remedy secret the server was started with (`LINKTRACE_REMEDY_SECRET`). */
  secret: string;
  /** Default: the tracing's service and instance. */
  service?: string;
  instance?: string;
  /** A handler that has not finished within this is failed (its signal aborted). Default 30 s. */
  handlerTimeoutMs?: number;
  /** How long one poll waits for work on the server. Default 20 s. */
  pollMs?: number;
  /** Remedies run at once; the agent asks for more work only below this. Default 4. */
  concurrency?: number;
  /** Told about refused deliveries and unreachable servers. Default: console.warn. */
  warn?: (line: string) => void;
}

export interface RemedyAgentCounters {
  ran: number;
  succeeded: number;
  failed: number;
  superseded: number;
  /** Deliveries refused: bad signature, expired, already run, no handler. */
  refused: number;
}

const MAX_REMEMBERED = 10_000;
/** Pacing of a failed claim or result report: the exporters' backoff with jitter (many instances fail together). */
const RETRY: RetryPolicy = { maxAttempts: 5, baseMs: 500, maxMs: 30_000 };

/** A handler's throw becomes a rejection, like its own rejections. */
function callHandler(handler: RemedyHandler, request: RemedyRequest): Promise<RemedyOutcome> {
  try {
    return Promise.resolve(handler(request));
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

function keyOf(stage: string, operation: string | undefined): string {
  return operation === undefined ? stage : `${stage}\u0000${operation}`;
}

export class RemedyAgent {
  readonly counters: RemedyAgentCounters = { ran: 0, succeeded: 0, failed: 0, superseded: 0, refused: 0 };
  private readonly handlers = new Map<string, RemedyHandlers>();
  /** Ids run (or being run): a remedy runs at most once here, whatever the server sends again. */
  private readonly seen = new Set<string>();
  private readonly service: string;
  private readonly instance: string;
  private readonly headers: Record<string, string>;
  private readonly claimTransport: HttpTransport;
  private running = false;
  private loop: Promise<void> | undefined;
  private stopPoll: (() => void) | undefined;

  constructor(private readonly options: RemedyAgentOptions) {
    if (typeof options.secret !== 'string' || options.secret.length < 16) throw new TypeError('RemedyAgent: secret must be the server\'s remedy secret (16 characters or more)');
    this.service = options.service ?? options.tracing.resource.service;
    this.instance = options.instance ?? options.tracing.resource.instance ?? `pid-${process.pid}`;
    this.headers = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
    this.claimTransport = new HttpTransport({
      url: new URL('/api/v1/remedies/claim', options.endpoint).href,
      headers: this.headers,
      timeoutMs: (options.pollMs ?? 20_000) + 10_000,
      maxResponseBytes: 1024 * 1024,
    });
  }

  /** Registers the handlers of one stage (and operation). A later registration of the same pair replaces it. */
  register(handlers: RemedyHandlers): this {
    if (typeof handlers.stage !== 'string' || handlers.stage === '') throw new TypeError('RemedyAgent.register: stage must be a non-empty string');
    if (typeof handlers.replay !== 'function') throw new TypeError(`RemedyAgent.register: stage ${handlers.stage} needs a replay function`);
    if (handlers.undo !== undefined && typeof handlers.undo !== 'function') throw new TypeError(`RemedyAgent.register: undo of stage ${handlers.stage} must be a function`);
    this.handlers.set(keyOf(handlers.stage, handlers.operation), handlers);
    return this;
  }

  /** Starts polling the server for work (in the background; never throws). */
  start(): this {
    if (this.running) return this;
    this.running = true;
    this.loop = this.pollLoop();
    return this;
  }

  /** Stops polling; a remedy under way finishes first. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopPoll?.();
    // Ends a long poll under way (its request fails, the loop sees it is stopping).
    this.claimTransport.shutdown();
    await this.loop;
  }

  private specs(): { stage: string; operation?: string; actions: RemedyAction[] }[] {
    return [...this.handlers.values()].map((h) => ({
      stage: h.stage,
      ...(h.operation !== undefined && { operation: h.operation }),
      actions: h.undo === undefined ? ['replay'] : ['replay', 'undo'],
    }));
  }

  private warn(line: string): void {
    (this.options.warn ?? ((l: string) => console.warn(l)))(`linktrace remedies: ${line}`);
  }

  private async pollLoop(): Promise<void> {
    let failures = 0;
    const inflight = new Set<Promise<unknown>>();
    const limit = Math.max(1, Math.floor(this.options.concurrency ?? 4));
    while (this.running) {
      if (inflight.size >= limit) {
        await Promise.race(inflight);
        continue;
      }
      if (this.handlers.size === 0) {
        await this.sleep(1000);
        continue;
      }
      const body = JSON.stringify({ service: this.service, instance: this.instance, handlers: this.specs(), waitMs: this.options.pollMs ?? 20_000 });
      const outcome = await this.claimTransport.send(body, 'application/json');
      if (!this.running) return;
      const reply = outcome.reply;
      if (reply === undefined || reply.status >= 300) {
        if (failures === 0) this.warn(`cannot ask ${this.options.endpoint} for work: ${outcome.result.code === 'success' ? 'no answer' : (outcome.result.error?.message ?? `HTTP ${reply?.status}`)}; retrying with backoff`);
        failures++;
        await this.sleep(retryDelayMs(RETRY, failures, parseRetryAfter(reply?.headers['retry-after'])));
        continue;
      }
      failures = 0;
      if (reply.status === 204) continue;
      let parsed: { delivery?: RemedyDelivery; signature?: string };
      try {
        parsed = JSON.parse(reply.body.toString('utf8')) as typeof parsed;
      } catch {
        this.counters.refused++;
        this.warn('the server answered a claim with something that is not JSON; ignored');
        continue;
      }
      const run: Promise<unknown> = this.handle(parsed.delivery, parsed.signature).finally(() => inflight.delete(run));
      inflight.add(run);
    }
    await Promise.all(inflight);
  }

  /** Runs one delivery if it is genuine, fresh, new and has a handler; exposed for tests. */
  async handle(delivery: RemedyDelivery | undefined, signature: string | undefined): Promise<RemedyResult | undefined> {
    if (delivery === undefined || typeof signature !== 'string' || !verifyRemedy(delivery, signature, this.options.secret)) {
      this.counters.refused++;
      this.warn(`refused a remedy delivery that is not signed with the remedy secret${delivery?.id === undefined ? '' : ` (${String(delivery.id).slice(0, 200)})`}`);
      return undefined;
    }
    if (this.seen.has(delivery.id)) {
      this.counters.refused++;
      this.warn(`remedy ${delivery.id} was delivered again; it runs at most once, ignored`);
      return undefined;
    }
    if (delivery.expiresAtMs <= Date.now()) {
      this.counters.refused++;
      this.warn(`remedy ${delivery.id} expired before it arrived; not run`);
      return undefined;
    }
    this.remember(delivery.id);
    const spec = this.handlers.get(keyOf(delivery.stage, delivery.operation)) ?? this.handlers.get(keyOf(delivery.stage, undefined));
    const handler = spec === undefined ? undefined : delivery.action === 'undo' ? spec.undo : spec.replay;
    const result = handler === undefined ? { status: 'failed' as const, reason: `no ${delivery.action} handler for stage ${delivery.stage} (${delivery.operation}) here` } : await this.run(delivery, handler);
    await this.report(delivery.id, result);
    return result;
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > MAX_REMEMBERED) this.seen.delete(this.seen.values().next().value as string);
  }

  private async run(d: RemedyDelivery, handler: RemedyHandler): Promise<RemedyResult> {
    this.counters.ran++;
    const tracer = this.options.tracing.getTracer('linktrace.remedies');
    const timeoutMs = this.options.handlerTimeoutMs ?? 30_000;
    const attributes: Record<string, string> = { [REMEDY_ATTR.id]: d.id, [REMEDY_ATTR.finding]: d.findingId, [REMEDY_ATTR.action]: d.action };
    const span = tracer.startSpan(`remedy ${d.action} ${d.stage} ${d.operation}`, {
      parent: null,
      kind: 'internal',
      attributes,
      links: [{ context: { traceId: d.traceId, spanId: d.spanId, traceFlags: 1, isRemote: true }, attributes: { 'linktrace.link.reason': 'remedy' } }],
    });
    const remedyTraceId = span.spanContext().traceId;
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const request: RemedyRequest = {
      id: d.id,
      action: d.action,
      rule: d.rule,
      stage: d.stage,
      operation: d.operation,
      ...(d.entity !== undefined && { entity: d.entity }),
      ...(d.target !== undefined && { target: d.target }),
      traceId: d.traceId,
      spanId: d.spanId,
      signal: abort.signal,
    };
    let result: RemedyResult;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          abort.abort();
          reject(new Error(`the ${d.action} handler did not finish within ${timeoutMs} ms`));
        }, timeoutMs);
      });
      const outcome = await Promise.race([runWithContext(Context.ROOT.withSpan(span), callHandler, handler, request), timeout]);
      if (outcome !== undefined && outcome !== null && (outcome as { superseded?: unknown }).superseded === true) {
        const reason = (outcome as { reason?: string }).reason ?? 'a newer version already arrived';
        span.setAttribute('linktrace.remedy.superseded', reason);
        result = { status: 'superseded', remedyTraceId, reason };
        this.counters.superseded++;
      } else {
        result = { status: 'succeeded', remedyTraceId };
        this.counters.succeeded++;
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      span.recordException(error);
      span.setStatus('error', message);
      result = { status: 'failed', remedyTraceId, reason: message.slice(0, 2000) };
      this.counters.failed++;
    } finally {
      clearTimeout(timer);
      span.end();
    }
    // The re-check reads the remedy's trace: send it now rather than at the next export round.
    await this.options.tracing.forceFlush();
    return result;
  }

  private async report(id: string, result: RemedyResult): Promise<void> {
    const transport = new HttpTransport({ url: new URL(`/api/v1/remedies/${encodeURIComponent(id)}/result`, this.options.endpoint).href, headers: this.headers });
    const body = JSON.stringify({ service: this.service, instance: this.instance, ...result, signature: signRemedyResult(id, result, this.options.secret) });
    try {
      for (let attempt = 1; attempt <= RETRY.maxAttempts; attempt++) {
        const outcome = await transport.send(body, 'application/json');
        if (outcome.result.code === 'success' || outcome.result.code === 'failed') {
          if (outcome.result.code === 'failed') this.warn(`the server refused the result of ${id}: ${outcome.result.error?.message ?? ''}`);
          return;
        }
        if (attempt < RETRY.maxAttempts) await this.sleep(retryDelayMs(RETRY, attempt, parseRetryAfter(outcome.reply?.headers['retry-after'])));
      }
      this.warn(`could not report the result of ${id}; the server will fail it when its lease ends`);
    } finally {
      transport.shutdown();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.stopPoll = undefined;
        resolve();
      }, ms);
      this.stopPoll = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
