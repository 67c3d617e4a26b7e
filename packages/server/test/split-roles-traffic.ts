/**
 * Traffic for the split-role fault test: shop-sync traces (the analysis package's shared fixture)
 * with a chain fault injected into some, each trace in two halves (the merchant-api's spans, then
 * the rest) so that a checker only gets it right when both halves reach it; and a sender that
 * posts to a set of collectors, moving to another one when a collector is gone or refuses, and
 * records what was acknowledged.
 */
import { randomBytes } from 'node:crypto';
import { encodeNativeJson, type Span } from '@linktrace/model';
import { byId, ID, shopSyncSpans, without } from '@linktrace/analysis/testing';
import { setTimeout as sleep } from 'node:timers/promises';

/** The faults injected, each named by the one finding it must give (docs/chain-checks.md). */
export const FAULTS = ['missing-write', 'duplicate-write', 'stage-error', 'not-consumed'] as const;
export type Fault = (typeof FAULTS)[number];

export interface PlannedTrace {
  traceId: string;
  /** The merchant-api's spans, then the rest (possibly empty). */
  halves: [Span[], Span[]];
  fault?: Fault;
  /** The span the finding must name. */
  faultSpanId?: string;
}

/**
 * Trace `n`, started `agoMs` before now: every `faultEvery`-th trace gets the next fault of FAULTS.
 * The shop key is the trace's number, so findings of different traces never look alike.
 */
export function planTrace(n: number, faultEvery: number, agoMs = 2000): PlannedTrace {
  const traceId = randomBytes(16).toString('hex');
  let spans = shopSyncSpans(traceId, (Date.now() - agoMs) * 1000);
  for (const s of spans) s.attributes['linktrace.entity.key'] = String(n);
  const fault = n % faultEvery === faultEvery - 1 ? FAULTS[Math.floor(n / faultEvery) % FAULTS.length] : undefined;
  let faultSpanId: string | undefined;
  switch (fault) {
    case 'missing-write':
      spans = without(spans, ID.workerMysql, ID.workerRedis, ID.workerHttp, ID.queryReceive, ID.queryWrite);
      faultSpanId = ID.workerReceive;
      break;
    case 'duplicate-write': {
      const first = byId(spans, ID.workerMysql);
      faultSpanId = 'b0000000000000ff';
      spans.push({ ...first, spanId: faultSpanId, startUs: first.startUs + 2000, rpcid: `${first.rpcid}.9`, attributes: { ...first.attributes } });
      break;
    }
    case 'stage-error':
      byId(spans, ID.workerRedis).status = { code: 'error', message: 'ECONNRESET' };
      faultSpanId = ID.workerRedis;
      break;
    case 'not-consumed':
      spans = spans.filter((s) => s.service === 'merchant-api');
      faultSpanId = ID.apiEnqueue;
      break;
    case undefined:
      break;
  }
  const planned: PlannedTrace = {
    traceId,
    halves: [spans.filter((s) => s.service === 'merchant-api'), spans.filter((s) => s.service !== 'merchant-api')],
  };
  if (fault !== undefined) {
    planned.fault = fault;
    planned.faultSpanId = faultSpanId!;
  }
  return planned;
}

export interface SendStats {
  /** Requests answered 2xx. */
  acknowledged: number;
  /** Attempts that failed (connection refused or reset, 429, 503) and were sent again elsewhere. */
  retried: number;
  /** Why attempts failed, counted. */
  failures: Map<string, number>;
}

/**
 * Posts one batch to the collectors in turn, starting at `first`, until one answers 2xx; resolves
 * then (the batch is acknowledged). A 4xx other than 429 is a bug of the test: it throws. Gives up
 * (throws) after `giveUpMs`: collectors that never come back are a failure, not a hang.
 */
export async function sendBatch(collectorUrls: () => string[], first: number, spans: Span[], stats: SendStats, giveUpMs = 120_000): Promise<void> {
  const body = JSON.stringify(encodeNativeJson(spans));
  const deadline = Date.now() + giveUpMs;
  for (let attempt = 0; ; attempt++) {
    const urls = collectorUrls();
    const url = urls[(first + attempt) % urls.length]!;
    let why: string;
    try {
      const res = await fetch(`${url}/api/v1/spans`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      const text = await res.text();
      if (res.ok) {
        stats.acknowledged++;
        return;
      }
      if (res.status !== 429 && res.status !== 503) throw new Error(`POST ${url}/api/v1/spans answered ${res.status}: ${text}`);
      why = String(res.status);
    } catch (err) {
      if ((err as Error).message.startsWith('POST ')) throw err;
      why = ((err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message).slice(0, 60);
    }
    stats.retried++;
    stats.failures.set(why, (stats.failures.get(why) ?? 0) + 1);
    if (Date.now() > deadline) throw new Error(`no collector acknowledged a batch within ${giveUpMs} ms; failures: ${JSON.stringify([...stats.failures])}`);
    // Backoff grows with the attempts on the same batch, as an exporter's would; a second collector is tried at once.
    await sleep(attempt % urls.length === 0 ? Math.min(2000, 100 * 2 ** Math.min(attempt, 5)) : 0);
  }
}
