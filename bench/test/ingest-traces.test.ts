import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTraceId, isValidRpcid, isValidSpanId, isValidTraceId, rpcidParent, validateSpan, type Span } from '@linktrace/model';
import { ENDPOINTS, ENTRY_POINTS, SERVICES } from '../src/ingest-catalog.js';
import { MAX_TRACE_SPANS, MIN_TRACE_SPANS, TraceGenerator } from '../src/ingest-traces.js';
import { Random } from '../src/ingest-random.js';

const START_US = 1_790_000_000_000_000;

function traces(count: number, seed = 11): Span[][] {
  const gen = new TraceGenerator({ seed, startUs: START_US, traceGapUs: 10_000 });
  const out: Span[][] = [];
  for (let i = 0; i < count; i++) {
    const spans: Span[] = [];
    const n = gen.next(spans);
    assert.equal(n, spans.length);
    out.push(spans);
  }
  return out;
}

const sample = traces(3000);

describe('ingest catalog', () => {
  it('names two dozen services and every call, consumer and entry point it refers to', () => {
    assert.equal(SERVICES.length, 23);
    assert.equal(Object.keys(ENDPOINTS).length, 37);
    for (const [id, ep] of Object.entries(ENDPOINTS)) {
      assert.ok((ep.method !== undefined && ep.route !== undefined) !== (ep.topic !== undefined), `${id}: HTTP or consumer, not both`);
      for (const step of ep.steps) {
        if (step.t === 'call') assert.ok(ENDPOINTS[step.to]?.route !== undefined, `${id} calls ${step.to}`);
        if (step.t === 'publish') for (const c of step.consumers) assert.equal(ENDPOINTS[c]?.topic, step.topic, `${id} publishes to ${c}`);
      }
    }
    for (const [id] of ENTRY_POINTS) assert.ok(ENDPOINTS[id], id);
  });
});

describe('ingest trace generator', () => {
  it('makes traces of 5 to 30 valid spans with exactly ten attributes each', () => {
    const sizes = new Set<number>();
    for (const t of sample) {
      assert.ok(t.length >= MIN_TRACE_SPANS && t.length <= MAX_TRACE_SPANS, `trace of ${t.length} spans`);
      sizes.add(t.length);
      for (const s of t) {
        assert.equal(Object.keys(s.attributes).length, 10, `${s.service} ${s.name}`);
        assert.equal(validateSpan(s), undefined, `${s.service} ${s.name}`);
      }
    }
    // Varied shapes, not one size.
    assert.ok(sizes.size >= 12, `sizes: ${[...sizes].join(',')}`);
  });

  it('gives every span of a trace the root trace id, made by the model for the entry instance at the trace start', () => {
    for (const t of sample.slice(0, 500)) {
      const root = t[0]!;
      assert.equal(root.parentSpanId, undefined);
      assert.equal(root.rpcid, '0');
      assert.ok(isValidTraceId(root.traceId));
      for (const s of t) assert.equal(s.traceId, root.traceId);
      const decoded = decodeTraceId(root.traceId);
      assert.ok(decoded !== undefined, root.traceId);
      assert.equal(`${decoded.ipv4}:${decoded.port}`, root.instance);
      assert.ok(Math.abs(decoded.timeMs * 1000 - root.startUs) < 1000, `id time ${decoded.timeMs} vs start ${root.startUs}`);
    }
    const ids = sample.map((t) => t[0]!.traceId);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual([...ids].sort(), ids, 'ids increase with time');
  });

  it('links parents inside the trace with positions and times that fit', () => {
    for (const t of sample) {
      const byId = new Map(t.map((s) => [s.spanId, s]));
      assert.equal(byId.size, t.length, 'span ids unique');
      for (const s of t.slice(1)) {
        assert.ok(isValidSpanId(s.spanId) && isValidRpcid(s.rpcid));
        const parent = byId.get(s.parentSpanId!);
        assert.ok(parent !== undefined, `parent of ${s.name}`);
        // The receiving half of a call or message takes its caller's position; anything else is a child position.
        if ((s.kind === 'server' && parent.kind === 'client') || (s.kind === 'consumer' && parent.kind === 'producer')) {
          assert.equal(s.rpcid, parent.rpcid);
          assert.notEqual(s.service, parent.service);
        } else {
          assert.equal(rpcidParent(s.rpcid!), parent.rpcid);
          assert.equal(s.service, parent.service);
          assert.equal(s.instance, parent.instance);
        }
        assert.ok(s.startUs >= parent.startUs, `${s.name} starts before its parent`);
        if (s.kind !== 'consumer') assert.ok(s.startUs + s.durationUs! <= parent.startUs + parent.durationUs!, `${s.name} outlasts its parent`);
      }
    }
  });

  it('marks data-sync chains with stages, entities and targets', () => {
    const stages = new Map<string, number>();
    let targets = 0;
    for (const t of sample) {
      for (const s of t) {
        const stage = s.attributes['linktrace.stage'];
        if (typeof stage !== 'string') continue;
        stages.set(stage, (stages.get(stage) ?? 0) + 1);
        assert.equal(typeof s.attributes['linktrace.entity.type'], 'string');
        assert.equal(typeof s.attributes['linktrace.entity.key'], 'string');
        if (stage === 'write' || stage === 'enqueue') {
          assert.match(String(s.attributes['linktrace.target']), /^(http|external|mq|mysql|postgres|redis|mongo|elasticsearch):[\w.-]+$/);
          targets++;
        }
        if (stage === 'skip') assert.equal(typeof s.attributes['linktrace.skip.reason'], 'string');
      }
    }
    for (const stage of ['receive', 'process', 'write', 'enqueue', 'skip']) assert.ok((stages.get(stage) ?? 0) > 0, stage);
    assert.ok(targets > 1000);
  });

  it('fails a small share of traces, and the failure reaches the entry span', () => {
    const failed = sample.filter((t) => t.some((s) => s.status.code === 'error'));
    assert.ok(failed.length > 0 && failed.length < sample.length * 0.1, `${failed.length} failed traces`);
    for (const t of failed) {
      const errors = t.filter((s) => s.status.code === 'error');
      assert.ok(errors.every((s) => (s.status.message ?? '') !== ''));
      // A failure behind a message stays with its consumer; a failure on the request path reaches the entry span.
      const byId = new Map(t.map((s) => [s.spanId, s]));
      const behindMessage = (s: Span | undefined): boolean => s !== undefined && (s.kind === 'consumer' && s !== t[0] ? true : behindMessage(byId.get(s.parentSpanId ?? '')));
      if (errors.some((s) => !behindMessage(s))) assert.equal(t[0]!.status.code, 'error');
      assert.equal(t[0]!.status.code === 'error', t[0]!.events.length === 1);
    }
  });

  it('makes the same shapes for the same seed, and other shapes for another', () => {
    const shape = (ts: Span[][]): string => ts.map((t) => t.map((s) => `${s.service}/${s.name}/${s.rpcid}`).join('|')).join('\n');
    assert.equal(shape(traces(50, 5)), shape(traces(50, 5)));
    assert.notEqual(shape(traces(50, 5)), shape(traces(50, 6)));
  });
});

describe('ingest random source', () => {
  it('stays in range and skews shop ids towards small numbers', () => {
    const r = new Random(3);
    let low = 0;
    for (let i = 0; i < 10_000; i++) {
      const n = r.int(5, 30);
      assert.ok(n >= 5 && n <= 30 && Number.isInteger(n));
      const s = r.skewed(20_000);
      assert.ok(s >= 1 && s <= 20_000);
      if (s <= 2500) low++;
      assert.ok(r.latencyUs(1) >= 1);
    }
    assert.ok(low > 4000 && low < 6000, `${low} of 10000 in the lowest eighth`);
    assert.match(r.hex(32), /^[0-9a-f]{32}$/);
  });
});
