import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { ATTR, type Span } from '@linktrace/model';
import type { CollectingSpanProcessor } from '@linktrace/sdk';

/**
 * Polls `check` every 25 ms until it returns a value other than undefined; fails after `timeoutMs`,
 * a bound that only tells a hang apart (generous: other tests load the machine too).
 */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(25);
  }
}

/** The id of the trace that merchant-api's receive of shop `key` (at `version`) started. */
export function traceIdOf(collector: CollectingSpanProcessor, key: string, version: number): string | undefined {
  return collector.spans.find(
    (s) => s.service === 'merchant-api' && s.attributes[ATTR.stage] === 'receive' && s.attributes[ATTR.entityKey] === key && s.attributes[ATTR.entityVersion] === version,
  )?.traceId;
}

export function ended(collector: CollectingSpanProcessor, traceId: string): Span[] {
  return collector.spans.filter((s) => s.traceId === traceId);
}

/** Start records of the trace whose span never ended. */
export function unfinished(collector: CollectingSpanProcessor, traceId: string): Span[] {
  const done = new Set(ended(collector, traceId).map((s) => s.spanId));
  return collector.startRecords.filter((s) => s.traceId === traceId && !done.has(s.spanId));
}

/** A compact, sortable description of a span: `service stage kind [target]`. */
export function shapeOf(span: Span): string {
  const target = span.attributes[ATTR.target];
  return `${span.service} ${String(span.attributes[ATTR.stage])} ${span.kind}${target === undefined ? '' : ` ${String(target)}`}`;
}

export function shapes(spans: readonly Span[]): string[] {
  return spans.map(shapeOf).sort();
}

export function only(spans: readonly Span[], service: string, stage: string, target?: string): Span[] {
  return spans.filter((s) => s.service === service && s.attributes[ATTR.stage] === stage && (target === undefined || s.attributes[ATTR.target] === target));
}

export function one(spans: readonly Span[], service: string, stage: string, target?: string): Span {
  const found = only(spans, service, stage, target);
  assert.equal(found.length, 1, `exactly one ${service} ${stage} ${target ?? ''}; trace has: ${shapes(spans).join(' | ')}`);
  return found[0]!;
}

/**
 * One connected trace: a single root, every parent inside the trace, each child's rpcid one level
 * below its parent's, and every span about the same shop entity.
 */
export function assertConnected(spans: readonly Span[], key: string, version: number): void {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const roots = spans.filter((s) => s.parentSpanId === undefined);
  assert.equal(roots.length, 1, `one root span, got ${roots.map(shapeOf).join(', ')}`);
  for (const span of spans) {
    assert.equal(span.attributes[ATTR.entityType], 'shop', shapeOf(span));
    assert.equal(span.attributes[ATTR.entityKey], key, shapeOf(span));
    assert.equal(span.attributes[ATTR.entityVersion], version, shapeOf(span));
    assert.match(span.rpcid ?? '', /^0(\.\d+)*$/, `rpcid of ${shapeOf(span)}`);
    if (span.parentSpanId === undefined) {
      assert.equal(span.rpcid, '0');
      continue;
    }
    const parent = byId.get(span.parentSpanId);
    assert.ok(parent, `parent of ${shapeOf(span)} is in the trace`);
    // The receiving half of a call across services shares its caller's position (EagleEye); any
    // other span is the next call below its parent.
    const shared = parent.service !== span.service && (span.kind === 'server' || span.kind === 'consumer');
    const below = new RegExp(`^${parent.rpcid!.replaceAll('.', '\\.')}\\.\\d+$`);
    if (shared) assert.equal(span.rpcid, parent.rpcid, `rpcid of ${shapeOf(span)} is its caller's`);
    else assert.match(span.rpcid!, below, `rpcid ${span.rpcid} of ${shapeOf(span)} below ${parent.rpcid}`);
  }
  const positions = spans.map((s) => `${s.service} ${s.rpcid}`);
  assert.equal(new Set(positions).size, positions.length, `positions are unique within a service: ${positions.join(', ')}`);
}

export function parentOf(spans: readonly Span[], span: Span): Span | undefined {
  return spans.find((s) => s.spanId === span.parentSpanId);
}
