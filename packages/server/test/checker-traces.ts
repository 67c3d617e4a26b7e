/**
 * Shop-sync traces for the checker tests, timed around now: the shared fixture of
 * `@linktrace/analysis/testing` (merchant-api → mq:shop-changed → sync-worker → mysql:user_shop,
 * redis:shop_cache, http:shop-query → shop-query → memory:shop_cache), plus HTTP helpers.
 */
import { randomBytes } from 'node:crypto';
import type { Span } from '@linktrace/model';
import { encodeNativeJson } from '@linktrace/model';
import { byId, shopSyncSpans } from '@linktrace/analysis/testing';
import type { FastifyInstance } from 'fastify';

export { ID, SHOP, without } from '@linktrace/analysis/testing';

export function newTraceId(): string {
  return randomBytes(16).toString('hex');
}

/** A healthy trace that started `agoMs` before now (`nowMs`: the server's clock, when a test moves it). */
export function shopSync(traceId = newTraceId(), agoMs = 1000, nowMs = Date.now()): Span[] {
  return shopSyncSpans(traceId, (nowMs - agoMs) * 1000);
}

/** A second write of the worker's mysql write (same entity version, same target). */
export function duplicateOf(spans: Span[], id: string, newId: string): Span {
  const s = byId(spans, id);
  return { ...s, spanId: newId, startUs: s.startUs + 2000, rpcid: `${s.rpcid}.9`, attributes: { ...s.attributes } };
}

export async function postSpans(app: FastifyInstance, spans: Span[]): Promise<void> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/spans', payload: encodeNativeJson(spans) });
  if (res.statusCode !== 200) throw new Error(`POST /api/v1/spans answered ${res.statusCode}: ${res.body}`);
}

/** Polls `probe` every 25 ms until it returns a value, at most `ms`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A clock that moves only when the test says so (ms since the epoch), for `buildApp({ clock })`. */
export interface ManualClock {
  now: () => number;
  advance(ms: number): void;
}

export function manualClock(startMs = Date.now()): ManualClock {
  let t = startMs;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

/**
 * Lets everything accepted (and re-opened at start-up) reach the checker, moves the clock by `ms`, and runs a checker round:
 * what is due by then is checked and stored when this resolves, however slow the machine.
 */
export async function advanceAndCheck(app: FastifyInstance, clock: ManualClock, ms: number): Promise<void> {
  await app.linktrace.pipeline.idle();
  // Start-up re-opens pending traces at the clock's time: that must be before it moves.
  await app.linktrace.checker!.settled();
  clock.advance(ms);
  await app.linktrace.checker!.checkNow();
}
