import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { copySpan, type Span } from '@linktrace/model';
import { hashRecord } from '../src/reconcile/canonical-json.js';
import type { ReconcileEntity } from '../src/reconcile/reconciler.js';
import { createReconciler } from '../src/reconcile/reconciler.js';
import { CollectingSpanProcessor } from '../src/testing/collecting-span-processor.js';
import { createTracing } from '../src/trace/tracing.js';
import { reconcileSpans, rig, sleep } from './reconcile-helpers.js';

const shop = { type: 'shop', key: 42, version: 7 };
const TARGET = 'redis:shop_cache';

function exported(span: Span): string {
  return JSON.stringify(copySpan(span));
}

describe('Reconciler', () => {
  it('records a match as a child of the write, in the same trace, after the delay', async () => {
    const { collector, reconciler, stages, tracing } = rig({ delayMs: 60 });
    const calls: unknown[][] = [];
    reconciler.register('shop', {
      source: (key, entity) => {
        calls.push(['source', key, entity]);
        return { version: 7 };
      },
      target: (key, target, entity) => {
        calls.push(['target', key, target, entity]);
        return Promise.resolve({ version: '7' });
      },
    });
    const endedAt = performance.now();
    stages.write(shop, TARGET, () => undefined);
    assert.equal(reconciler.pending, 1);
    await sleep(20);
    assert.equal(calls.length, 0, 'no read before the delay');
    const [span] = await reconcileSpans(collector, 1);
    assert.ok(performance.now() - endedAt >= 55);
    const write = collector.byName('write shop to redis:shop_cache');
    assert.equal(span!.name, 'reconcile shop');
    assert.equal(span!.traceId, write.traceId);
    assert.equal(span!.parentSpanId, write.spanId);
    assert.equal(span!.rpcid, `${write.rpcid}.1`);
    assert.equal(span!.service, 'shop-sync');
    assert.equal(span!.status.code, 'unset');
    assert.deepEqual(span!.attributes, {
      'linktrace.entity.type': 'shop',
      'linktrace.entity.key': '42',
      'linktrace.entity.version': '7',
      'linktrace.target': TARGET,
      'linktrace.reconcile.delay_ms': 60,
      'linktrace.reconcile.result': 'match',
      'linktrace.reconcile.source.version': '7',
      'linktrace.reconcile.target.version': '7',
    });
    const entity: ReconcileEntity = { type: 'shop', key: '42', version: '7' };
    assert.deepEqual(calls, [['source', '42', entity], ['target', '42', TARGET, entity]]);
    assert.equal(reconciler.counters.match, 1);
    assert.equal(reconciler.pending, 0);
    await tracing.shutdown();
  });

  it('records a mismatch with versions and hashes, never the payload', async () => {
    const { collector, reconciler, stages } = rig();
    const secret = 'Boulangerie-Secret-Address-77';
    const fresh = { id: 42, name: 'Shop', address: secret, version: 7 };
    const stale = { id: 42, name: 'Shop', address: 'old', version: 7 };
    reconciler.register('shop', {
      source: () => ({ payload: fresh }),
      target: () => Promise.resolve({ payload: stale }),
    });
    stages.write(shop, TARGET, () => undefined);
    const [span] = await reconcileSpans(collector, 1);
    const a = span!.attributes;
    assert.equal(a['linktrace.reconcile.result'], 'mismatch');
    assert.equal(a['linktrace.reconcile.source.hash'], hashRecord(fresh));
    assert.equal(a['linktrace.reconcile.target.hash'], hashRecord(stale));
    assert.equal(a['linktrace.reconcile.source.version'], undefined);
    for (const s of collector.spans) {
      assert.ok(!exported(s).includes(secret), `payload leaked into ${s.name}`);
      assert.ok(!exported(s).includes('old"'), `payload leaked into ${s.name}`);
    }
    assert.equal(reconciler.counters.mismatch, 1);
  });

  it('a version that differs is a mismatch even when hashes are absent', async () => {
    const { collector, reconciler, stages } = rig();
    reconciler.register('shop', { source: () => ({ version: 8 }), target: () => ({ version: 7, hash: 'x' }) });
    stages.write(shop, TARGET, () => undefined);
    const [span] = await reconcileSpans(collector, 1);
    assert.equal(span!.attributes['linktrace.reconcile.result'], 'mismatch');
    assert.equal(span!.attributes['linktrace.reconcile.source.version'], '8');
    assert.equal(span!.attributes['linktrace.reconcile.target.version'], '7');
    assert.equal(span!.attributes['linktrace.reconcile.target.hash'], 'x');
  });

  it('checks writes to stores only: a write to a service or a queue hands the record on', async () => {
    const { collector, reconciler, stages } = rig();
    const targets: string[] = [];
    reconciler.register('shop', { source: () => ({ version: 7 }), target: (_key, target) => (targets.push(target), { version: 7 }) });
    for (const target of ['http:shop-query', 'grpc:pricing', 'mq:shop-changed', TARGET]) stages.write(shop, target, () => undefined);
    const spans = await reconcileSpans(collector, 1);
    await sleep(100);
    assert.deepEqual(targets, [TARGET]);
    assert.equal(spans[0]!.attributes['linktrace.target'], TARGET);
    assert.equal(reconciler.counters.scheduled, 1);
  });

  it('a record absent at the target is missing; absent at the source is unknown', async () => {
    const { collector, reconciler, stages } = rig();
    reconciler.register('shop', { source: (key) => (key === '1' ? { version: 1 } : undefined), target: () => null });
    stages.write({ type: 'shop', key: 1 }, TARGET, () => undefined);
    stages.write({ type: 'shop', key: 2 }, TARGET, () => undefined);
    const spans = await reconcileSpans(collector, 2);
    const byKey = new Map(spans.map((s) => [s.attributes['linktrace.entity.key'], s]));
    assert.equal(byKey.get('1')!.attributes['linktrace.reconcile.result'], 'missing');
    assert.equal(byKey.get('1')!.attributes['linktrace.reconcile.target.version'], undefined);
    assert.equal(byKey.get('2')!.attributes['linktrace.reconcile.result'], 'unknown');
    assert.equal(byKey.get('2')!.status.code, 'unset');
    assert.equal(byKey.get('1')!.attributes['linktrace.entity.version'], undefined, 'no version on the write, none invented');
    assert.deepEqual([reconciler.counters.missing, reconciler.counters.unknown], [1, 1]);
  });

  it('a reader that throws, rejects, times out or returns garbage is recorded as an error, never thrown', async () => {
    const { collector, reconciler, stages } = rig({ delayMs: 10, timeoutMs: 50 });
    const behaviours: Record<string, () => unknown> = {
      throws: () => {
        throw new Error('connection refused');
      },
      rejects: () => Promise.reject(new Error('timeout on replica')),
      hangs: () => new Promise(() => undefined),
      garbage: () => 'v7',
    };
    reconciler.register('shop', {
      source: () => ({ version: 7 }),
      target: (key) => behaviours[key]!() as never,
    });
    for (const key of Object.keys(behaviours)) stages.write({ type: 'shop', key }, TARGET, () => undefined);
    const spans = await reconcileSpans(collector, 4);
    const message = (key: string) => spans.find((s) => s.attributes['linktrace.entity.key'] === key)!.status;
    assert.deepEqual(message('throws'), { code: 'error', message: 'target reader failed: connection refused' });
    assert.deepEqual(message('rejects'), { code: 'error', message: 'target reader failed: timeout on replica' });
    assert.deepEqual(message('hangs'), { code: 'error', message: 'target reader timed out after 50 ms' });
    assert.equal(message('garbage').code, 'error');
    assert.match(message('garbage').message!, /not an object/);
    for (const s of spans) {
      assert.equal(s.attributes['linktrace.reconcile.result'], 'unknown');
      // The side that answered is still recorded.
      assert.equal(s.attributes['linktrace.reconcile.source.version'], '7');
    }
    assert.equal(reconciler.counters.failed, 4);
    assert.equal(reconciler.pending, 0);
  });

  it('checks only successful writes of registered types that name a key and a target', async () => {
    const { collector, reconciler, stages, tracing } = rig({ delayMs: 5 });
    reconciler.register('shop', { source: () => ({ version: 1 }), target: () => ({ version: 1 }) });
    stages.write({ type: 'order', key: 1 }, TARGET, () => undefined); // not registered
    stages.process(shop, () => undefined); // not a write
    stages.enqueue(shop, 'mq:shop-changed', () => undefined); // not a write
    assert.throws(() => stages.write(shop, TARGET, () => {
      throw new Error('disk full');
    })); // a failed write is a stage-error already
    stages.write(shop, '', () => undefined); // no target
    tracing.getTracer().startSpan('write by hand', { attributes: { 'linktrace.stage': 'write', 'linktrace.entity.type': 'shop', 'linktrace.target': TARGET } }).end(); // no key
    assert.equal(reconciler.pending, 0);
    assert.equal(reconciler.counters.scheduled, 0);
    stages.write(shop, TARGET, () => undefined);
    assert.equal(reconciler.counters.scheduled, 1);
    await reconcileSpans(collector, 1);
    await sleep(30);
    assert.equal(collector.spans.filter((s) => s.name.startsWith('reconcile')).length, 1, 'the reconcile span itself is not reconciled');
  });

  it('bounds the pending checks and counts what it drops', async () => {
    const { collector, reconciler, stages } = rig({ delayMs: 30, maxPending: 3 });
    reconciler.register('shop', { source: () => ({ version: 1 }), target: () => ({ version: 1 }) });
    for (let i = 0; i < 5; i++) stages.write({ type: 'shop', key: i }, TARGET, () => undefined);
    assert.equal(reconciler.pending, 3);
    assert.equal(reconciler.counters.dropped, 2);
    const spans = await reconcileSpans(collector, 3);
    await sleep(60);
    assert.equal(collector.spans.filter((s) => s.name.startsWith('reconcile')).length, 3);
    assert.deepEqual(spans.map((s) => s.attributes['linktrace.entity.key']).sort(), ['0', '1', '2']);
    // Room again once they ran.
    stages.write({ type: 'shop', key: 9 }, TARGET, () => undefined);
    assert.equal(reconciler.pending, 1);
  });

  it('shutdown cancels waiting checks: no reader runs, no span is recorded', async () => {
    const { collector, reconciler, stages, tracing } = rig({ delayMs: 30 });
    let reads = 0;
    reconciler.register('shop', {
      source: () => {
        reads++;
        return { version: 1 };
      },
      target: () => ({ version: 1 }),
    });
    stages.write(shop, TARGET, () => undefined);
    stages.write({ ...shop, key: 43 }, TARGET, () => undefined);
    await tracing.shutdown();
    assert.equal(reconciler.counters.cancelled, 2);
    assert.equal(reconciler.pending, 0);
    await sleep(80);
    assert.equal(reads, 0);
    assert.equal(collector.spans.filter((s) => s.name.startsWith('reconcile')).length, 0);
    stages.write(shop, TARGET, () => undefined);
    assert.equal(reconciler.pending, 0, 'nothing queued after shutdown');
    await reconciler.shutdown(); // idempotent
    assert.equal(reconciler.counters.cancelled, 2);
  });

  it('ignores bad registrations and bad options', () => {
    const reconciler = createReconciler({ delayMs: -1, maxPending: 0.5, timeoutMs: NaN });
    assert.equal(reconciler.delayMs, 5000);
    assert.equal(reconciler.maxPending, 10_000);
    assert.equal(reconciler.timeoutMs, 10_000);
    assert.equal(reconciler.register('', { source: () => undefined, target: () => undefined }), false);
    assert.equal(reconciler.register('shop', null as never), false);
    assert.equal(reconciler.register('shop', { source: () => undefined } as never), false);
    assert.equal(reconciler.counters.invalidRegistrations, 3);
    assert.equal(createReconciler(null as never).delayMs, 5000);
  });

  it('joins a write span that cannot hand out child positions by its context', async () => {
    // A plain model span (e.g. copied or from another tracer): the check still joins its trace.
    const collector = new CollectingSpanProcessor();
    const reconciler = createReconciler({ delayMs: 10 });
    const tracing = createTracing({ service: 'svc', processors: [collector, reconciler] });
    reconciler.attach(tracing.getTracer('mine'));
    reconciler.register('shop', { source: () => ({ hash: 'h' }), target: () => ({ hash: 'h' }) });
    const write = { ...copySpan(tracing.getTracer().startSpan('w') as unknown as Span), durationUs: 1, attributes: {
      'linktrace.stage': 'write', 'linktrace.entity.type': 'shop', 'linktrace.entity.key': 'k', 'linktrace.target': TARGET,
    }, rpcid: '0.4' } as Span;
    reconciler.onEnd(write);
    const [span] = await reconcileSpans(collector, 1);
    assert.equal(span!.traceId, write.traceId);
    assert.equal(span!.parentSpanId, write.spanId);
    assert.equal(span!.scope?.name, 'mine');
    assert.equal(span!.attributes['linktrace.reconcile.result'], 'match');
  });

  it('does not keep a process alive: a waiting check is unref-ed', async () => {
    const src = new URL('../src/', import.meta.url).href;
    const script = `
      import { createReconciler } from '${src}reconcile/reconciler.js';
      import { stagesFor } from '${src}stages/stages.js';
      import { createTracing } from '${src}trace/tracing.js';
      const reconciler = createReconciler({ delayMs: 60000 });
      const tracing = createTracing({ service: 's', processors: [reconciler] });
      reconciler.attach(tracing);
      reconciler.register('shop', { source: () => ({ version: 1 }), target: () => ({ version: 1 }) });
      stagesFor(tracing).write({ type: 'shop', key: 1 }, 'redis:x', () => undefined);
      console.log(reconciler.pending);`;
    // A child held by its 60 s check is killed at 20 s and rejects; no wall-clock budget besides that,
    // since a node start on a loaded machine can take seconds.
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
    });
    assert.equal(out.trim(), '1', 'exited on its own with the check still pending');
  });
});
