/**
 * The re-check of remedies alone, on a store of known latency (`node bench/dist/src/remedy-recheck.bench.js`,
 * after the build): N remedies report success at once, each with its trace already stored (as the
 * SDK's agent flushes before it reports); the bench measures the time from the result to `verified`.
 * It isolates what bench:remedy's `succeeded -> verified` phase is made of — the re-check's schedule
 * and its store reads — from the demo's handlers and the machine's load. Last line JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ATTR, REMEDY_ATTR, type Finding, type Span } from '@linktrace/model';
import { RemedyService } from '@linktrace/server';
import { envInt, percentile } from './stats.js';

const READ_MS = envInt('BENCH_READ_MS', 150);
const SIZES = [6, 18];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

async function measure(n: number): Promise<{ p50: number; p99: number; max: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'lt-bench-recheck-'));
  const traces = new Map<string, Span[]>();
  const service = new RemedyService({
    dataDir: dir,
    options: { token: 'bench-remedy-token', secret: 'bench-remedy-secret-0123456789' },
    // Every read costs READ_MS, as a loaded store's would.
    store: {
      getTrace: async (id: string) => {
        await sleep(READ_MS);
        return traces.get(id) ?? [];
      },
      findFindings: async () => {
        await sleep(READ_MS);
        return [] as Finding[];
      },
    } as never,
    checking: () => false,
    checkNow: () => [],
  });
  service.start();
  try {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const traceId = hex(i + 1, 32);
      const { record } = service.book.request(
        { findingId: `${traceId}-${hex(1, 16)}-missing-write`, action: 'replay', rule: 'missing-write', service: 'worker', stage: 'receive', operation: 'consume', entity: { type: 'shop', key: `s${i}` }, traceId, spanId: hex(1, 16) },
        'bench',
      );
      service.book.claim('worker', 'w1', [{ stage: 'receive', actions: ['replay'] }]);
      const remedyTrace = hex(1000 + i, 32);
      const span = (spanId: string, attributes: Record<string, string>): Span =>
        ({ traceId: remedyTrace, spanId, service: 'worker', name: 'remedy', kind: 'internal', startUs: 1, durationUs: 1, attributes, events: [], links: [], status: { code: 'unset' } }) as unknown as Span;
      traces.set(remedyTrace, [span(hex(1, 16), { [REMEDY_ATTR.id]: record.delivery.id }), span(hex(2, 16), { [ATTR.stage]: 'write', [ATTR.entityKey]: `s${i}` })]);
      ids.push(record.delivery.id);
    }
    // A random point in the timer's period, as results arrive in production.
    await sleep(Math.random() * 1000);
    const start = Date.now();
    for (const [i, id] of ids.entries()) service.book.complete(id, 'worker@w1', 'succeeded', { remedyTraceId: hex(1000 + i, 32) });
    const done = new Map<string, number>();
    while (done.size < n && Date.now() - start < 60_000) {
      for (const id of ids) if (!done.has(id) && service.book.get(id)?.state === 'verified') done.set(id, Date.now() - start);
      await sleep(10);
    }
    if (done.size < n) throw new Error(`${n - done.size} of ${n} remedies not verified within 60 s`);
    const ms = [...done.values()].sort((a, b) => a - b);
    return { p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms.at(-1)! };
  } finally {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const out: Record<string, number> = { read_ms: READ_MS };
console.log(`| remedies reporting at once | result -> verified p50 / p99 / max (store reads ${READ_MS} ms) |`);
console.log('| ---: | --- |');
for (const n of SIZES) {
  const r = await measure(n);
  console.log(`| ${n} | ${r.p50} / ${r.p99} / ${r.max} ms |`);
  out[`n${n}_p50_ms`] = r.p50;
  out[`n${n}_p99_ms`] = r.p99;
}
console.log(JSON.stringify(out));
