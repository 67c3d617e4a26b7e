import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { Registry } from 'prom-client';
import { ATTR, encodeNativeJson, type Span } from '@linktrace/model';
import { openEmbeddedStore } from '@linktrace/storage';
import { parseServeFlags, startServer } from '../src/cli/serve.js';
import { RetentionJob } from '../src/pipeline/retention-job.js';
import { get, post, tempDir } from './ingest-helpers.js';

const DAY_MS = 86_400_000;
const NOW_MS = 1_796_083_200_000;

const span = (traceChar: string): Span => ({
  traceId: traceChar.repeat(32),
  spanId: '1'.repeat(16),
  service: 'retention-job',
  name: 'op',
  kind: 'internal',
  // Recorded two years before it arrives: its own time must not matter.
  startUs: (NOW_MS - 730 * DAY_MS) * 1000,
  durationUs: 1,
  status: { code: 'unset' },
  attributes: {},
  events: [],
  links: [],
});

async function counters(registry: Registry): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of await registry.getMetricsAsJSON()) {
    for (const v of m.values) out[`${m.name}${v.labels.what === undefined ? '' : `{${String(v.labels.what)}}`}`] = v.value;
  }
  return out;
}

void test('the retention job deletes by arrival with the clock it is given, counts what it removed, and does nothing when off', async () => {
  const dataDir = await tempDir('lt-retention-job-');
  let nowMs = NOW_MS;
  const clock = (): number => nowMs;
  const store = await openEmbeddedStore({ dataDir, clock });
  try {
    await store.writeSpans([span('a')]);
    nowMs += 2 * DAY_MS;
    await store.writeSpans([span('b')]);
    nowMs += 6 * DAY_MS;
    const lines: string[] = [];
    const warnings: string[] = [];
    const base = { store, clock, print: (l: string) => lines.push(l), warn: (l: string) => warnings.push(l) };

    const off = new RetentionJob({ ...base, retentionMs: 0, registry: new Registry() });
    off.start();
    await off.runOnce();
    off.stop();
    assert.equal((await store.stats()).spanRecords, 2, 'retention off keeps everything');

    const registry = new Registry();
    const job = new RetentionJob({ ...base, retentionMs: 7 * DAY_MS, registry });
    assert.deepStrictEqual(await counters(registry), {
      'linktrace_retention_runs_total': 0,
      'linktrace_retention_removed_total{span_records}': 0,
      'linktrace_retention_removed_total{findings}': 0,
      'linktrace_retention_removed_total{sdk_drop_reports}': 0,
    });
    await job.runOnce();
    assert.deepStrictEqual(await store.getTrace('a'.repeat(32)), [], 'arrived 8 days ago');
    assert.equal((await store.getTrace('b'.repeat(32))).length, 1, 'arrived 6 days ago');
    assert.deepStrictEqual(lines, [`linktrace: retention removed 1 span records and 0 findings (arrived before ${new Date(nowMs - 7 * DAY_MS).toISOString()})`]);
    await job.runOnce();
    assert.equal(lines.length, 1, 'a run that removes nothing prints nothing');
    assert.deepStrictEqual(await counters(registry), {
      'linktrace_retention_runs_total': 2,
      'linktrace_retention_removed_total{span_records}': 1,
      'linktrace_retention_removed_total{findings}': 0,
      'linktrace_retention_removed_total{sdk_drop_reports}': 0,
    });
    assert.deepStrictEqual(warnings, []);
  } finally {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

/** `linktrace serve` in process on a clock the test moves, its retention timers stopped (the test runs it); `send` waits until stored. */
async function clockedServe(dataDir: string): Promise<{
  server: Awaited<ReturnType<typeof startServer>>;
  lines: string[];
  clock: { now: () => number; advance: (ms: number) => void };
  send: (s: Span) => Promise<void>;
}> {
  let nowMs = NOW_MS;
  const lines: string[] = [];
  const server = await startServer(parseServeFlags({ port: '0', data: dataDir, retention: '7d', ui: false }), {
    clock: () => nowMs,
    print: (l) => lines.push(l),
    warn: (l) => lines.push(l),
  });
  // Runs are made by the test (the timers would race with the moved clock).
  server.retention.stop();
  const send = async (s: Span): Promise<void> => {
    const answer = await post(`${server.url}/api/v1/spans`, JSON.stringify(encodeNativeJson([s])), { 'content-type': 'application/json' });
    assert.equal(answer.status, 200, answer.body.toString());
    await server.app.linktrace.pipeline.idle();
  };
  return { server, lines, clock: { now: () => nowMs, advance: (ms) => (nowMs += ms) }, send };
}

void test('linktrace serve in process: spans sent over HTTP arrive by the clock the server is given, and its retention job counts by it', async () => {
  const dataDir = await tempDir('lt-retention-serve-');
  const { server, lines, clock, send } = await clockedServe(dataDir);
  try {
    await send(span('a'));
    clock.advance(2 * DAY_MS);
    await send(span('b'));
    clock.advance(6 * DAY_MS);
    await server.retention.runOnce();
    assert.deepStrictEqual(lines.filter((l) => /retention removed/.test(l)), [
      `linktrace: retention removed 1 span records and 0 findings (arrived before ${new Date(clock.now() - 7 * DAY_MS).toISOString()})`,
    ]);
  } finally {
    await server.close();
  }
  const store = await openEmbeddedStore({ dataDir });
  try {
    assert.deepStrictEqual(await store.getTrace('a'.repeat(32)), [], 'arrived 8 days before the server clock');
    assert.equal((await store.getTrace('b'.repeat(32))).length, 1, 'arrived 6 days before it');
  } finally {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

void test('linktrace serve in process: SDK drop reports leave with retention once received before its cutoff (store, /metrics, the API), a report still coming in stays', async () => {
  const dataDir = await tempDir('lt-retention-sdk-drops-');
  const { server, lines, clock, send } = await clockedServe(dataDir);
  try {
    const lossy = (traceChar: string, instance: string, dropped: number): Span => ({
      ...span(traceChar),
      service: 'lossy',
      instance,
      attributes: { [ATTR.droppedSpans]: String(dropped) },
    });
    await send(lossy('a', 'gone:1', 3));
    await send(lossy('b', 'steady:1', 5));
    // steady:1 keeps reporting the same count; gone:1 stops.
    for (let day = 1; day <= 8; day++) {
      clock.advance(DAY_MS);
      await send(lossy(String(day), 'steady:1', 5));
    }
    await server.retention.runOnce();
    assert.deepStrictEqual(lines.filter((l) => /retention removed/.test(l)), [
      `linktrace: retention removed 2 span records and 0 findings, 1 SDK drop report (arrived before ${new Date(clock.now() - 7 * DAY_MS).toISOString()})`,
    ]);
    const api = JSON.parse((await get(`${server.url}/api/v1/sdk-drops`)).body.toString('utf8')) as { reports?: { instance: string }[] };
    assert.deepStrictEqual(JSON.stringify(api).includes('gone:1'), false, JSON.stringify(api));
    assert.deepStrictEqual(JSON.stringify(api).includes('steady:1'), true, JSON.stringify(api));
    const metrics = (await get(`${server.url}/metrics`)).body.toString('utf8');
    assert.match(metrics, /linktrace_retention_removed_total\{what="sdk_drop_reports"\} 1/);
    assert.doesNotMatch(metrics, /linktrace_sdk_dropped_spans\{[^}]*gone:1/);
  } finally {
    await server.close();
  }
  const store = await openEmbeddedStore({ dataDir });
  try {
    assert.deepStrictEqual((await store.sdkDrops()).map((r) => r.instance), ['steady:1']);
  } finally {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
