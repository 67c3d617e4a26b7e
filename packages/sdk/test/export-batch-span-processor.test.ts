import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTR, type Span } from '@linktrace/model';
import type { ExportResult } from '../src/types.js';
import { BatchSpanProcessor, type BatchSpanProcessorOptions } from '../src/export/batch-span-processor.js';
import { SimpleSpanProcessor } from '../src/export/simple-span-processor.js';
import { RESOURCE, ScriptedExporter, makeSpan, makeSpans, waitFor } from './export-test-helpers.js';

const quiet = { onError: () => {}, flushOnExit: false } satisfies BatchSpanProcessorOptions;
const never = (): Promise<ExportResult> => new Promise<ExportResult>(() => {});

void test('a full batch is exported on the next turn of the event loop, never inside onEnd', async () => {
  const exporter = new ScriptedExporter();
  const p = new BatchSpanProcessor(exporter, { ...quiet, maxBatchSize: 3, scheduleDelayMs: 60_000 });
  for (const s of makeSpans(3)) p.onEnd(s);
  assert.equal(exporter.calls.length, 0, 'exported synchronously inside onEnd');
  await waitFor(() => exporter.calls.length === 1, 2000, 'full batch');
  assert.deepEqual(exporter.calls[0]?.spans.map((s) => s.name), ['op-0', 'op-1', 'op-2']);
  await waitFor(() => p.stats().exported === 3, 1000, 'exported count');
  assert.equal(p.stats().batches, 1);
  await p.shutdown();
});

void test('a partial batch waits for the schedule delay, then goes', async () => {
  const exporter = new ScriptedExporter();
  const p = new BatchSpanProcessor(exporter, { ...quiet, maxBatchSize: 100, scheduleDelayMs: 80 });
  const t0 = Date.now();
  p.onEnd(makeSpan(1));
  p.onEnd(makeSpan(2));
  // Not a 30 ms sleep: on a loaded machine that can outlast the 80 ms delay. An immediate runs before
  // any timer set now can fire, so a send not held by the timer would already show here.
  await new Promise((r) => setImmediate(r));
  assert.equal(exporter.calls.length, 0, 'partial batch sent before the delay');
  await waitFor(() => exporter.calls.length === 1, 2000, 'timer export');
  assert.ok(exporter.calls[0]!.at - t0 >= 75, `sent after ${exporter.calls[0]!.at - t0} ms`);
  assert.equal(exporter.calls[0]!.spans.length, 2);
  // The timer re-arms for spans that arrive later.
  p.onEnd(makeSpan(3));
  await waitFor(() => exporter.calls.length === 2, 2000, 're-armed timer export');
  assert.deepEqual(exporter.calls[1]!.spans.map((s) => s.name), ['op-3']);
  await p.shutdown();
});

void test('maxExportsInFlight 1: one export in flight at a time, spans delivered in order', async () => {
  const exporter = new ScriptedExporter([
    () => new Promise<ExportResult>((r) => setTimeout(() => r({ code: 'success' }), 10)),
  ]);
  const p = new BatchSpanProcessor(exporter, { ...quiet, maxBatchSize: 4, maxQueueSize: 64, scheduleDelayMs: 10, maxExportsInFlight: 1 });
  for (const s of makeSpans(40)) p.onEnd(s);
  await p.forceFlush();
  await waitFor(() => p.stats().exported === 40, 3000, 'all exported');
  assert.equal(exporter.maxInFlight, 1);
  const names = exporter.calls.flatMap((c) => c.spans.map((s) => s.name));
  assert.deepEqual(names, makeSpans(40).map((s) => s.name));
  assert.ok(exporter.calls.every((c) => c.spans.length <= 4));
  await p.shutdown();
});

void test('below half a queue the default processor keeps one export in flight', async () => {
  const exporter = new ScriptedExporter([
    () => new Promise<ExportResult>((r) => setTimeout(() => r({ code: 'success' }), 10)),
  ]);
  const p = new BatchSpanProcessor(exporter, { ...quiet, maxBatchSize: 4, maxQueueSize: 64, scheduleDelayMs: 10 });
  for (const s of makeSpans(30)) p.onEnd(s);
  await p.forceFlush();
  assert.equal(p.stats().exported, 30);
  assert.equal(exporter.maxInFlight, 1);
  assert.deepEqual(exporter.calls.flatMap((c) => c.spans.map((s) => s.name)), makeSpans(30).map((s) => s.name));
  await p.shutdown();
});

void test('keeps up with a slow exporter at 5 000 spans/s without drops (default queue, second export past half)', async () => {
  // bench:http's span rate against a collector that answers a 512-span batch in 150 ms: one export
  // at a time moves ~3 400 spans/s, so the backlog grows until the second export starts.
  const exporter = new ScriptedExporter([
    () => new Promise<ExportResult>((r) => setTimeout(() => r({ code: 'success' }), 150)),
  ]);
  const p = new BatchSpanProcessor(exporter, { ...quiet });
  const total = 12_500;
  let made = 0;
  let peak = 0;
  const t0 = Date.now();
  while (made < total && Date.now() - t0 < 10_000) {
    // 50 spans every 10 ms of wall time (catching up if a tick came late).
    const due = Math.min(total, Math.floor(((Date.now() - t0) / 10 + 1) * 50));
    while (made < due) p.onEnd(makeSpan(made++));
    peak = Math.max(peak, p.stats().queued);
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(made, total, 'producer did not finish within 10 s');
  await p.forceFlush();
  const stats = p.stats();
  assert.deepEqual({ exported: stats.exported, dropped: stats.dropped }, { exported: total, dropped: 0 }, `peak queue ${peak}`);
  assert.equal(exporter.maxInFlight, 2, `peak queue ${peak}`);
  assert.ok(peak >= 4096 && peak < 8192, `peak queue ${peak}`);
  assert.equal(new Set(exporter.calls.flatMap((c) => c.spans.map((s) => s.name))).size, total, 'every span exported exactly once');
  await p.shutdown();
});

void test('past its bound the processor still drops and counts, with two exports stuck in flight', async () => {
  const errors: string[] = [];
  const exporter = new ScriptedExporter([never]);
  const p = new BatchSpanProcessor(exporter, {
    maxQueueSize: 64,
    maxBatchSize: 16,
    scheduleDelayMs: 60_000,
    exportTimeoutMs: 100,
    maxAttempts: 1,
    flushTimeoutMs: 400,
    flushOnExit: false,
    onError: (e) => errors.push(e.message),
  });
  const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
  for (const s of makeSpans(16)) p.onEnd(s);
  await turn(); // the worker takes 16 and waits for an answer that never comes
  for (const s of makeSpans(64, 16)) p.onEnd(s);
  await turn(); // half full: the second export takes 16 more
  assert.equal(exporter.maxInFlight, 2);
  assert.equal(p.stats().queued, 48);
  for (const s of makeSpans(100, 80)) p.onEnd(s);
  assert.deepEqual({ queued: p.stats().queued, full: p.stats().droppedQueueFull }, { queued: 64, full: 84 });
  assert.equal(exporter.maxInFlight, 2, 'never more than two exports in flight');
  // The two background exports' timeouts are unref'd (a real request in flight holds the process
  // itself; this exporter's promise does not): keep the loop alive while shutdown waits for them.
  const keepAlive = setInterval(() => {}, 50);
  try {
    await p.shutdown();
  } finally {
    clearInterval(keepAlive);
  }
  const stats = p.stats();
  assert.equal(stats.exported, 0);
  assert.equal(stats.dropped, 180, JSON.stringify(stats));
  assert.equal(stats.droppedQueueFull + stats.droppedExportFailed, 180);
  assert.ok(errors.some((m) => /span queue full \(64 spans\)/.test(m)), errors.join('|'));
});

void test('a retryable answer on the second export joins the batch already waiting for its retry', async () => {
  let n = 0;
  // The first two calls (one per lane) fail once both are under way, so both lanes are in flight
  // together however slowly the machine runs; every later call succeeds.
  let bothStarted: () => void = () => {};
  const started = new Promise<void>((r) => (bothStarted = r));
  const exporter = new ScriptedExporter([
    () => {
      const call = ++n;
      if (call === 2) bothStarted();
      if (call > 2) return new Promise<ExportResult>((r) => setTimeout(() => r({ code: 'success' }), 30));
      return started.then(() => new Promise<ExportResult>((r) => setTimeout(() => r({ code: 'retryable', error: new Error('HTTP 503') }), 30)));
    },
  ]);
  // The first retry waits at least 150 ms (equal jitter over 300): the second lane's failure, ~30 ms
  // in, lands while the first batch waits, even on a loaded machine (20 ms here flaked in CI).
  const p = new BatchSpanProcessor(exporter, { ...quiet, maxQueueSize: 64, maxBatchSize: 16, scheduleDelayMs: 60_000, retryBaseMs: 300, retryMaxMs: 600 });
  const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
  for (const s of makeSpans(16)) p.onEnd(s);
  await turn();
  for (const s of makeSpans(32, 16)) p.onEnd(s);
  await turn();
  assert.equal(exporter.maxInFlight, 2);
  await waitFor(() => p.stats().retries >= 1 && p.stats().queued === 0 && exporter.inFlight === 0, 3000, 'retry sent');
  await p.forceFlush();
  const stats = p.stats();
  assert.deepEqual({ exported: stats.exported, dropped: stats.dropped }, { exported: 48, dropped: 0 }, JSON.stringify(stats));
  const retried = exporter.calls.find((c) => c.spans.length === 32);
  assert.ok(retried !== undefined, `no merged retry among ${exporter.calls.map((c) => c.spans.length).join(',')}`);
  assert.equal(new Set(exporter.calls.slice(2).flatMap((c) => c.spans.map((s) => s.name))).size, 48);
  await p.shutdown();
});

void test('queue overflow drops and counts, and the next export reports the cumulative count', async () => {
  const exporter = new ScriptedExporter();
  const p = new BatchSpanProcessor(exporter, { ...quiet, maxQueueSize: 4, maxBatchSize: 4, scheduleDelayMs: 60_000, resource: RESOURCE });
  for (const s of makeSpans(7)) p.onEnd(s);
  assert.deepEqual(
    { queued: p.stats().queued, dropped: p.stats().dropped, full: p.stats().droppedQueueFull },
    { queued: 4, dropped: 3, full: 3 },
  );
  await p.forceFlush();
  assert.equal(exporter.calls.length, 1);
  const first = exporter.calls[0]!;
  assert.deepEqual(first.spans.map((s) => s.name), ['op-0', 'op-1', 'op-2', 'op-3'], 'oldest spans kept');
  assert.equal(first.resource.attributes[ATTR.droppedSpans], 3);
  assert.equal(first.resource.attributes['deployment.environment'], 'test', 'configured resource kept');
  assert.equal(first.resource.service, 'checkout');
  // Cumulative, not per batch.
  p.onEnd(makeSpan(9));
  await p.forceFlush();
  assert.equal(exporter.calls[1]!.resource.attributes[ATTR.droppedSpans], 3);
  assert.equal(RESOURCE.attributes[ATTR.droppedSpans], undefined, 'configured resource object not mutated');
  await p.shutdown();
});

void test('without a configured resource the batch carries the first span service and instance', async () => {
  const exporter = new ScriptedExporter();
  const p = new BatchSpanProcessor(exporter, quiet);
  p.onEnd(makeSpan(1, { service: 'billing', instance: 'h:1' }));
  await p.forceFlush();
  const r = exporter.calls[0]!.resource;
  assert.deepEqual(r, { service: 'billing', instance: 'h:1', attributes: { [ATTR.droppedSpans]: 0 } });
  await p.shutdown();
});

void test('retryable with Retry-After: retried after the delay and delivered once', async () => {
  const exporter = new ScriptedExporter([
    { code: 'retryable', error: new Error('HTTP 429'), retryAfterMs: 250 },
    { code: 'success' },
  ]);
  const p = new BatchSpanProcessor(exporter, { ...quiet, retryBaseMs: 10 });
  p.onEnd(makeSpan(1));
  await p.forceFlush();
  assert.equal(exporter.calls.length, 2);
  const gap = exporter.calls[1]!.at - exporter.calls[0]!.at;
  assert.ok(gap >= 240, `retried after ${gap} ms, server asked for 250`);
  assert.deepEqual(exporter.calls[1]!.spans, exporter.calls[0]!.spans);
  const s = p.stats();
  assert.deepEqual([s.exported, s.dropped, s.batches, s.retries], [1, 0, 1, 1]);
  await p.shutdown();
});

void test('background retries use growing backoff, stay bounded, then drop and count', async () => {
  const busy: ExportResult = { code: 'retryable', error: new Error('HTTP 503') };
  const exporter = new ScriptedExporter([busy, busy, busy, busy, { code: 'success' }]);
  const errors: string[] = [];
  const p = new BatchSpanProcessor(exporter, {
    ...quiet,
    onError: (e) => errors.push(e.message),
    maxAttempts: 4,
    retryBaseMs: 20,
    scheduleDelayMs: 5,
  });
  for (const s of makeSpans(3)) p.onEnd(s);
  await waitFor(() => p.stats().droppedExportFailed === 3, 5000, 'drop after retries');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(exporter.calls.length, 4, 'bounded attempts');
  const gaps = exporter.calls.slice(1).map((c, i) => c.at - exporter.calls[i]!.at);
  // Equal jitter: retry n waits between base*2^(n-1)/2 and base*2^(n-1).
  assert.ok(gaps[0]! >= 9 && gaps[2]! >= 39, `gaps ${gaps.join(',')}`);
  const s = p.stats();
  assert.deepEqual([s.exported, s.dropped, s.batches, s.retries], [0, 3, 1, 3]);
  assert.ok(errors.some((m) => /after 4 attempts: HTTP 503 \(3 spans dropped\)/.test(m)), errors.join('|'));
  // The loss is reported to the server with the next batch.
  p.onEnd(makeSpan(9));
  await p.forceFlush();
  assert.equal(exporter.calls[4]!.resource.attributes[ATTR.droppedSpans], 3);
  assert.equal(p.stats().exported, 1);
  await p.shutdown();
});

void test('dropped export failures are reported in the next export resource', async () => {
  const exporter = new ScriptedExporter([{ code: 'failed', error: new Error('HTTP 400') }, { code: 'success' }]);
  const p = new BatchSpanProcessor(exporter, quiet);
  p.onEnd(makeSpan(1));
  p.onEnd(makeSpan(2));
  await p.forceFlush();
  p.onEnd(makeSpan(3));
  await p.forceFlush();
  assert.equal(exporter.calls.length, 2, 'failed batch must not be retried');
  assert.equal(exporter.calls[1]!.resource.attributes[ATTR.droppedSpans], 2);
  assert.deepEqual([p.stats().droppedExportFailed, p.stats().exported, p.stats().retries], [2, 1, 0]);
  await p.shutdown();
});

void test('a server Retry-After longer than retryMaxMs is capped', async () => {
  const exporter = new ScriptedExporter([
    { code: 'retryable', error: new Error('HTTP 429'), retryAfterMs: 3_600_000 },
    { code: 'success' },
  ]);
  const p = new BatchSpanProcessor(exporter, { ...quiet, retryMaxMs: 100 });
  const t0 = Date.now();
  p.onEnd(makeSpan(1));
  await p.forceFlush();
  assert.equal(p.stats().exported, 1);
  // Uncapped, it would wait an hour: any bound far below that and far above 100 ms holds on a loaded machine.
  assert.ok(Date.now() - t0 < 60_000, `flush took ${Date.now() - t0} ms`);
  await p.shutdown();
});

void test('an exporter that never answers times out, is retried a bounded number of times, then dropped', async () => {
  const exporter = new ScriptedExporter([never]);
  const p = new BatchSpanProcessor(exporter, { ...quiet, exportTimeoutMs: 60, maxAttempts: 2, retryBaseMs: 10 });
  for (const s of makeSpans(5)) p.onEnd(s);
  const t0 = Date.now();
  await p.forceFlush();
  const took = Date.now() - t0;
  assert.equal(exporter.calls.length, 2);
  assert.equal(p.stats().droppedExportFailed, 5);
  // At least the two timeouts and the backoff; the upper bound only says it ended (never answers otherwise).
  assert.ok(took >= 110 && took < 60_000, `flush took ${took} ms`);
  await p.shutdown();
});

void test('an exporter that throws or rejects breaks its contract but not the processor', async () => {
  const throwing = {
    export(): Promise<ExportResult> {
      throw new Error('boom');
    },
    shutdown: () => Promise.reject(new Error('shutdown boom')),
  };
  const errors: string[] = [];
  const p = new BatchSpanProcessor(throwing, { ...quiet, onError: (e) => errors.push(e.message) });
  assert.doesNotThrow(() => p.onEnd(makeSpan(1)));
  await p.forceFlush();
  assert.equal(p.stats().droppedExportFailed, 1);
  const rejecting = { export: () => Promise.reject(new Error('nope')), shutdown: () => Promise.resolve() };
  const p2 = new BatchSpanProcessor(rejecting, quiet);
  p2.onEnd(makeSpan(1));
  await p2.forceFlush();
  assert.equal(p2.stats().droppedExportFailed, 1);
  await p.shutdown();
  await p2.shutdown();
  assert.ok(errors.some((m) => m.includes('boom')) && errors.some((m) => m.includes('shutdown boom')), errors.join('|'));
});

void test('a throwing onError handler does not escape', async () => {
  const exporter = new ScriptedExporter([{ code: 'failed', error: new Error('x') }]);
  const p = new BatchSpanProcessor(exporter, {
    ...quiet,
    maxQueueSize: 1,
    onError: () => {
      throw new Error('handler broke');
    },
  });
  p.onEnd(makeSpan(1));
  assert.doesNotThrow(() => p.onEnd(makeSpan(2)));
  await p.forceFlush();
  assert.equal(p.stats().dropped, 2);
  await p.shutdown();
});

void test('shutdown flushes, shuts the exporter down once, is idempotent, and drops later spans', async () => {
  const exporter = new ScriptedExporter();
  const p = new BatchSpanProcessor(exporter, { ...quiet, scheduleDelayMs: 60_000 });
  for (const s of makeSpans(5)) p.onEnd(s);
  const a = p.shutdown();
  const b = p.shutdown();
  assert.equal(a, b);
  await a;
  assert.equal(exporter.spanCount, 5);
  assert.equal(exporter.shutdownCalls, 1);
  p.onEnd(makeSpan(6));
  p.onStart(makeSpan(7), true);
  await p.forceFlush();
  await p.shutdown();
  assert.equal(exporter.calls.length, 1);
  assert.equal(exporter.shutdownCalls, 1);
  const s = p.stats();
  assert.deepEqual([s.droppedAfterShutdown, s.dropped, s.queued], [2, 2, 0]);
});

void test('shutdown gives up on retries that do not fit its budget and counts the loss', async () => {
  const exporter = new ScriptedExporter([{ code: 'retryable', error: new Error('HTTP 503'), retryAfterMs: 600_000 }]);
  const p = new BatchSpanProcessor(exporter, { ...quiet, flushTimeoutMs: 200, retryMaxMs: 600_000 });
  for (const s of makeSpans(3)) p.onEnd(s);
  const t0 = Date.now();
  await p.shutdown();
  // Waiting for the retry would take 10 minutes: a minute tells them apart on any loaded machine.
  assert.ok(Date.now() - t0 < 60_000, `shutdown took ${Date.now() - t0} ms`);
  assert.equal(exporter.calls.length, 1);
  assert.equal(p.stats().droppedExportFailed, 3);
});

void test('forceFlush ends while spans keep arriving', async () => {
  const exporter = new ScriptedExporter([
    () => new Promise<ExportResult>((r) => setTimeout(() => r({ code: 'success' }), 1)),
  ]);
  const p = new BatchSpanProcessor(exporter, { ...quiet, maxBatchSize: 8, maxQueueSize: 10_000 });
  for (const s of makeSpans(100)) p.onEnd(s);
  let producing = true;
  let produced = 0;
  const produce = (): void => {
    if (!producing || produced > 20_000) return;
    for (let i = 0; i < 8; i++) p.onEnd(makeSpan(produced++));
    setImmediate(produce);
  };
  produce();
  await p.forceFlush();
  producing = false;
  assert.ok(p.stats().exported >= 100, `exported ${p.stats().exported}`);
  await p.shutdown();
  assert.equal(p.stats().exported + p.stats().dropped, 100 + produced);
});

void test('start records are frozen snapshots; the live span keeps changing', async () => {
  const exporter = new ScriptedExporter();
  const p = new BatchSpanProcessor(exporter, quiet);
  const live: Span = makeSpan(1, { durationUs: undefined });
  p.onStart(live, true);
  p.onStart(makeSpan(2), false);
  live.durationUs = 42;
  live.name = 'renamed';
  p.onEnd(live);
  await p.forceFlush();
  const sent = exporter.calls.flatMap((c) => c.spans);
  assert.equal(sent.length, 2, 'onStart(span, false) must not enqueue');
  assert.equal(sent[0]!.durationUs, undefined);
  assert.equal(sent[0]!.name, 'op-1');
  assert.equal(sent[0]!.spanId, live.spanId);
  assert.equal(sent[1], live);
  await p.shutdown();
});

void test('the error handler hears about a full queue once per export cycle, not once per span', async () => {
  const errors: string[] = [];
  const exporter = new ScriptedExporter();
  const p = new BatchSpanProcessor(exporter, { ...quiet, maxQueueSize: 2, onError: (e) => errors.push(e.message) });
  for (const s of makeSpans(50)) p.onEnd(s);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /queue full/);
  await p.forceFlush();
  for (const s of makeSpans(50)) p.onEnd(s);
  assert.equal(errors.length, 2);
  await p.shutdown();
});

void test('bad options are rejected at construction', () => {
  const e = new ScriptedExporter();
  assert.throws(() => new BatchSpanProcessor(e, { maxQueueSize: 0 }), RangeError);
  assert.throws(() => new BatchSpanProcessor(e, { maxBatchSize: 1.5 }), RangeError);
  assert.throws(() => new BatchSpanProcessor(e, { exportTimeoutMs: -1 }), RangeError);
  assert.throws(() => new BatchSpanProcessor(e, { maxAttempts: Number.NaN }), RangeError);
  assert.throws(() => new BatchSpanProcessor(e, { maxExportsInFlight: 0 }), RangeError);
  assert.throws(() => new BatchSpanProcessor(e, { maxExportsInFlight: 3 }), /1 or 2/);
});

void test('SimpleSpanProcessor exports each span as it ends, and counts failures', async () => {
  const exporter = new ScriptedExporter([{ code: 'success' }, { code: 'failed', error: new Error('HTTP 400') }, { code: 'success' }]);
  const p = new SimpleSpanProcessor(exporter, { onError: () => {} });
  p.onEnd(makeSpan(1));
  assert.equal(exporter.calls.length, 0, 'exported synchronously inside onEnd');
  p.onEnd(makeSpan(2));
  await p.forceFlush();
  p.onStart(makeSpan(3, { durationUs: 5 }), true);
  await p.forceFlush();
  assert.equal(exporter.calls.length, 3);
  assert.ok(exporter.calls.every((c) => c.spans.length === 1));
  assert.equal(exporter.calls[2]!.spans[0]!.durationUs, undefined);
  assert.deepEqual(p.stats(), { exported: 2, dropped: 1 });
  assert.equal(exporter.calls[2]!.resource.attributes[ATTR.droppedSpans], 1);
  await p.shutdown();
  p.onEnd(makeSpan(4));
  assert.equal(exporter.shutdownCalls, 1);
  assert.deepEqual(p.stats(), { exported: 2, dropped: 2 });
});
