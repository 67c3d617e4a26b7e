/**
 * Zipkin data kept as Zipkin keeps it (issue 10, item 3), through the real route and the real
 * embedded store: every span of every Zipkin fixture comes back (a fan-out recorded by each callee
 * included), no span without duration is taken for a running one, a span without timestamp is kept,
 * and a span refused beside good ones is counted on /metrics by reason and named in the log.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeZipkinJson, encodeOtlpJson, encodeZipkinJson, type Span, type ZipkinSpan } from '@linktrace/model';
import { checkTrace } from '@linktrace/analysis';
import { fixtureFiles, get, post, readFixture, withEmbeddedApp } from './ingest-helpers.js';
import { RefusalLog } from '../src/ingest/refusal-log.js';
import { decodeBody, WIRE_FORMAT } from '../src/ingest/wire-format.js';

const JSON_TYPE = { 'content-type': 'application/json' };

/** One span in a store: records with the same key merge; a fan-out's callees differ by instance and start. */
function recordKey(s: Span): string {
  return `${s.traceId} ${s.spanId} ${s.kind} ${s.service} ${s.instance ?? '-'} ${s.startUnknown === true ? '?' : s.startUs}`;
}

function rawSpans(file: string): ZipkinSpan[] {
  const v = JSON.parse(readFixture(file).toString('utf8')) as ZipkinSpan | ZipkinSpan[];
  return Array.isArray(v) ? v : [v];
}

async function storedTrace(app: { linktrace: { pipeline: { idle(): Promise<void> } } }, read: () => Promise<Span[]>, want: number): Promise<Span[]> {
  let spans: Span[] = [];
  for (let attempt = 0; attempt < 100; attempt++) {
    await app.linktrace.pipeline.idle();
    spans = await read();
    if (spans.length >= want) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return spans;
}

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('Zipkin fixtures through POST /api/v2/spans', () => {
  it('every span of every fixture comes back: counts in == counts out by (id, kind, host)', async () => {
    await withEmbeddedApp({}, async ({ app, store, url }) => {
      const sent: Span[] = [];
      for (const file of fixtureFiles('zipkin')) {
        const raw = rawSpans(file);
        const decoded = decodeZipkinJson(raw);
        assert.equal(decoded.rejected, 0, `${file}: ${decoded.errors.join('; ')}`);
        const res = await post(`${url}/api/v2/spans`, JSON.stringify(raw), JSON_TYPE);
        assert.equal(res.status, 202, file);
        sent.push(...decoded.spans);
      }
      // The two zipkin2-*.json benchmark spans share a trace (and a span id, from two services).
      const back: Span[] = [];
      for (const id of new Set(sent.map((s) => s.traceId))) {
        back.push(...(await storedTrace(app, () => store.getTrace(id), sent.filter((s) => s.traceId === id).length)));
      }
      assert.deepEqual(back.map(recordKey).sort(), sent.map(recordKey).sort());
      assert.equal(back.length, 254, 'all 254 spans of the 11 fixtures');

      // The fan-out: five SERVER spans of one id from two pusher hosts, each kept (175 in, 171 out before).
      const fanOut = (await store.getTrace('8ce82b2e9ed820ba')).filter((s) => s.spanId === '9d2d35b746db84f3' && s.kind === 'server');
      assert.equal(fanOut.length, 5);
      assert.deepEqual([...new Set(fanOut.map((s) => s.instance))].sort(), ['10.0.0.187:8197', '10.0.0.79:8197']);
      assert.equal((await store.getTrace('8ce82b2e9ed820ba')).length, 175);
      const [hit] = await store.findTraces({ service: 'pusher' });
      assert.equal(hit?.spanCount, 175, 'the search summary counts as the read does');
    });
  });

  it('no unfinished-span finding from Zipkin data: a span without duration is finished, of unknown length', async () => {
    await withEmbeddedApp({}, async ({ app, store, url }) => {
      const nowUs = Date.UTC(2026, 0, 1) * 1000;
      let withoutDuration = 0;
      for (const file of fixtureFiles('zipkin')) {
        const raw = rawSpans(file);
        withoutDuration += raw.filter((s) => s.duration === undefined).length;
        const decoded = decodeZipkinJson(raw).spans;
        const live = checkTrace(decoded, {}, nowUs).filter((f) => f.rule === 'unfinished-span');
        assert.deepEqual(live, [], `${file}: as the checker sees it at ingest`);
        await post(`${url}/api/v2/spans`, JSON.stringify(raw), JSON_TYPE);
        const stored = await storedTrace(app, () => store.getTrace(decoded[0]!.traceId), decoded.length);
        const again = checkTrace(stored, {}, nowUs).filter((f) => f.rule === 'unfinished-span');
        assert.deepEqual(again, [], `${file}: as read back from the store`);
      }
      assert.equal(withoutDuration, 19, 'the fixtures do hold spans without duration');
    });
  });

  it('the running chain checker stores no unfinished-span finding for Zipkin\'s test data', async () => {
    await withEmbeddedApp({ checker: { checkDelayMs: 50, maxWaitMs: 2_000 } }, async ({ store, url }) => {
      const traces = new Set<string>();
      for (const file of fixtureFiles('zipkin')) {
        const raw = rawSpans(file);
        for (const s of decodeZipkinJson(raw).spans) traces.add(s.traceId);
        assert.equal((await post(`${url}/api/v2/spans`, JSON.stringify(raw), JSON_TYPE)).status, 202);
      }
      for (let attempt = 0; ; attempt++) {
        const metrics = (await get(`${url}/metrics`)).body.toString('utf8');
        const checked = metricValue(metrics, 'linktrace_checker_traces_checked_total');
        if (checked >= traces.size && metricValue(metrics, 'linktrace_checker_open_traces') === 0) break;
        assert.ok(attempt < 400, `the checker checked ${checked} of ${traces.size} traces`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const findings = await store.findFindings({});
      assert.deepEqual(findings.filter((f) => f.rule === 'unfinished-span'), []);
    });
  });

  it('our own start record (tagged by the encoder) is still a running span to the checker', () => {
    const nowUs = Date.UTC(2026, 0, 1) * 1000;
    const span: Span = {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', service: 'orders', name: 'write order', kind: 'internal',
      startUs: nowUs - 3_600_000_000, status: { code: 'unset' }, attributes: {}, events: [], links: [],
    };
    const wire = encodeZipkinJson([span]);
    const findings = checkTrace(decodeZipkinJson(wire).spans, {}, nowUs);
    assert.deepEqual(findings.map((f) => f.rule), ['unfinished-span']);
  });

  it('keeps a span without timestamp: merged with its timed record, or alone as a span of unknown start', async () => {
    await withEmbeddedApp({}, async ({ app, store, url }) => {
      const traceId = '5af7183fb1d4cf5f';
      const client = { traceId, id: '6b221d5bc9e6496c', kind: 'CLIENT', name: 'get', timestamp: 1_600_000_000_000_000, duration: 900, localEndpoint: { serviceName: 'front', ipv4: '10.0.0.1' } };
      // The untimed server half of the shared span (its partner is the client half).
      const server = { traceId, id: '6b221d5bc9e6496c', kind: 'SERVER', shared: true, localEndpoint: { serviceName: 'back', ipv4: '10.0.0.2', port: 80 }, tags: { 'http.status_code': '200' } };
      // Late data of a timed span: tags sent after the fact.
      const timed = { traceId, id: '1111111111111111', parentId: '6b221d5bc9e6496c', name: 'query', timestamp: 1_600_000_000_000_100, duration: 50, localEndpoint: { serviceName: 'back', ipv4: '10.0.0.2', port: 80 } };
      const late = { traceId, id: '1111111111111111', localEndpoint: { serviceName: 'back', ipv4: '10.0.0.2', port: 80 }, tags: { rows: '3' } };
      assert.equal((await post(`${url}/api/v2/spans`, JSON.stringify([server, late]), JSON_TYPE)).status, 202);
      assert.equal((await post(`${url}/api/v2/spans`, JSON.stringify([client, timed]), JSON_TYPE)).status, 202);
      const spans = await storedTrace(app, () => store.getTrace(traceId), 3);
      assert.deepEqual(
        spans.map((s) => [s.spanId, s.kind, s.startUs, s.startUnknown === true, s.attributes]),
        [
          ['6b221d5bc9e6496c', 'client', 1_600_000_000_000_000, false, {}],
          ['6b221d5bc9e6496c', 'server', 1_600_000_000_000_000, true, { 'http.status_code': '200' }],
          ['1111111111111111', 'internal', 1_600_000_000_000_100, false, { rows: '3' }],
        ],
      );
      // Written back as Zipkin does: no timestamp where none was known.
      assert.equal('timestamp' in encodeZipkinJson(spans)[1]!, false);

      // Bad input: neither timestamp nor partner. Kept, of unknown start; nothing else is affected.
      const lone = { traceId: 'aaaaaaaaaaaaaaaa', id: 'bbbbbbbbbbbbbbbb', name: 'orphan', localEndpoint: { serviceName: 'back' } };
      assert.equal((await post(`${url}/api/v2/spans`, JSON.stringify([lone]), JSON_TYPE)).status, 202);
      const [alone] = await storedTrace(app, () => store.getTrace('aaaaaaaaaaaaaaaa'), 1);
      assert.deepEqual([alone?.name, alone?.startUnknown, alone?.durationUnknown, alone?.startUs], ['orphan', true, true, 0]);
      assert.equal(checkTrace([alone!], {}, Date.now() * 1000).length, 0);
      const hits = await store.findTraces({ service: 'back' });
      assert.deepEqual(hits.map((h) => [h.traceId, h.spanCount]).sort(), [['5af7183fb1d4cf5f', 3], ['aaaaaaaaaaaaaaaa', 1]]);
    });
  });

  it('a span over a limit beside good spans: the good ones stored, the bad one counted by reason and logged', async () => {
    const lines: string[] = [];
    const logger = { level: 'warn', stream: { write: (line: string) => void lines.push(line) } };
    await withEmbeddedApp({ logger }, async ({ app, store, url }) => {
      const traceId = 'cccccccccccccccc';
      const good = (id: string) => ({ traceId, id, name: 'ok', timestamp: 1_600_000_000_000_000, duration: 5, localEndpoint: { serviceName: 'svc' } });
      const tags: Record<string, string> = {};
      for (let i = 0; i < 1025; i++) tags[`k${i}`] = 'v';
      const body = [good('1'), { ...good('2'), tags }, { ...good('3'), tags: { big: 'x'.repeat(131_073) } }, good('4')];
      const res = await post(`${url}/api/v2/spans`, JSON.stringify(body), JSON_TYPE);
      assert.equal(res.status, 202);
      const spans = await storedTrace(app, () => store.getTrace(traceId), 2);
      assert.deepEqual(spans.map((s) => s.spanId).sort(), ['0000000000000001', '0000000000000004']);

      const metrics = (await get(`${url}/metrics`)).body.toString('utf8');
      assert.equal(metricValue(metrics, 'linktrace_spans_rejected_total{receiver="zipkin",reason="too_many_attributes"}'), 1);
      assert.equal(metricValue(metrics, 'linktrace_spans_rejected_total{receiver="zipkin",reason="attribute_too_large"}'), 1);
      assert.equal(metricValue(metrics, 'linktrace_spans_received_total{receiver="zipkin"}'), 4);

      const refusals = lines.filter((l) => l.includes('refused'));
      assert.equal(refusals.length, 1, lines.join('\n'));
      assert.match(refusals[0]!, /zipkin: refused 2 spans .*too_many_attributes 1, attribute_too_large 1/);
      assert.match(refusals[0]!, /span 1 \(id 2\): tags: more than 1024/);
      assert.match(refusals[0]!, /span 2 \(id 3\): tags\.big: too long/);
      assert.ok(refusals[0]!.length < 2000, 'the 128 KiB value is not copied into the log');
    });
  });
});

describe('Zipkin: the server\'s own attribute limits apply span by span', () => {
  it('a span over --max-attributes or the value length is left out, the others stored; the log record replays only the kept', async () => {
    const limits = { maxAttributesPerSpan: 4, maxAttributeValueLength: 16 };
    await withEmbeddedApp({ limits }, async ({ app, store, url }) => {
      const logged: { tag: number; body: Buffer; spans: number }[] = [];
      const pipeline = app.linktrace.pipeline;
      const accept = pipeline.accept.bind(pipeline);
      pipeline.accept = (tag, body, spans) => {
        logged.push({ tag, body, spans: spans.length });
        return accept(tag, body, spans);
      };
      const traceId = 'dddddddddddddddd';
      const good = (id: string, tags: Record<string, string> = {}) => ({ traceId, id, name: 'ok', timestamp: 1_600_000_000_000_000, duration: 5, localEndpoint: { serviceName: 'svc' }, tags });
      const body = [good('1', { a: 'x'.repeat(16) }), good('2', { a: '1', b: '2', c: '3', d: '4', e: '5' }), good('3', { a: 'y'.repeat(17) }), good('4')];
      assert.equal((await post(`${url}/api/v2/spans`, JSON.stringify(body), JSON_TYPE)).status, 202);
      const spans = await storedTrace(app, () => store.getTrace(traceId), 2);
      assert.deepEqual(spans.map((s) => s.spanId).sort(), ['0000000000000001', '0000000000000004']);
      const metrics = (await get(`${url}/metrics`)).body.toString('utf8');
      assert.equal(metricValue(metrics, 'linktrace_spans_rejected_total{receiver="zipkin",reason="too_many_attributes"}'), 1);
      assert.equal(metricValue(metrics, 'linktrace_spans_rejected_total{receiver="zipkin",reason="attribute_too_large"}'), 1);
      // What a restart would replay from the write-ahead log: the two kept spans, not the four sent.
      assert.equal(logged.length, 1);
      assert.equal(logged[0]!.tag, WIRE_FORMAT.zipkinJson);
      const replayed = decodeBody(WIRE_FORMAT.zipkinJson, logged[0]!.body);
      assert.deepEqual(replayed.spans.map((s) => s.spanId), ['0000000000000001', '0000000000000004']);

      // Every span over a limit: refused with the limit's code, as on the other receivers.
      const res = await post(`${url}/api/v2/spans`, JSON.stringify([body[1]]), JSON_TYPE);
      assert.equal(res.status, 400);
      assert.equal((res.json() as { error: { code: string } }).error.code, 'too_many_attributes');
    });
  });
});

describe('OTLP: partial success already reports every refusal the decoder makes', () => {
  it('rejected_spans counts them, error_message names them, /metrics has their reasons', async () => {
    await withEmbeddedApp({}, async ({ url }) => {
      const base = (id: string, attributes: Span['attributes']): Span => ({
        traceId: 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', spanId: id, service: 'svc', name: 'op', kind: 'internal',
        startUs: 1_600_000_000_000_000, durationUs: 5, status: { code: 'unset' }, attributes, events: [], links: [],
      });
      const many: Span['attributes'] = {};
      for (let i = 0; i < 1025; i++) many[`k${i}`] = 'v';
      const body = encodeOtlpJson([base('0000000000000001', {}), base('0000000000000002', many), base('0000000000000003', { big: 'x'.repeat(131_073) })]);
      const res = await post(`${url}/v1/traces`, JSON.stringify(body), JSON_TYPE);
      assert.equal(res.status, 200);
      const partial = (res.json() as { partialSuccess: { rejectedSpans: number; errorMessage: string } }).partialSuccess;
      assert.equal(partial.rejectedSpans, 2);
      assert.match(partial.errorMessage, /spanId 0000000000000002\): attributes: more than 1024 attributes/);
      assert.match(partial.errorMessage, /spanId 0000000000000003\): attributes\.big: string too long/);
      const metrics = (await get(`${url}/metrics`)).body.toString('utf8');
      assert.equal(metricValue(metrics, 'linktrace_spans_rejected_total{receiver="otlp",reason="too_many_attributes"}'), 1);
      assert.equal(metricValue(metrics, 'linktrace_spans_rejected_total{receiver="otlp",reason="attribute_too_large"}'), 1);
    });
  });
});

describe('RefusalLog', () => {
  it('names the first refusals, then at most one line per interval, counting what it left out', () => {
    const lines: string[] = [];
    let now = 1_000;
    const log = new RefusalLog((l) => lines.push(l), { now: () => now, intervalMs: 60_000, maxMessages: 2 });
    const by = (n: number) => ({ invalid_span: n, too_many_attributes: 0, attribute_too_large: 0 });
    log.report('zipkin', 0, by(0), []);
    assert.equal(lines.length, 0, 'nothing refused, nothing logged');
    log.report('zipkin', 3, by(3), ['span 0: a', 'span 1: b', 'span 2: c']);
    assert.deepEqual(lines, ['zipkin: refused 3 spans of a request that was answered as accepted (invalid_span 3): span 0: a; span 1: b; …']);
    now += 59_999;
    log.report('zipkin', 1, by(1), ['span 0: d']);
    log.report('zipkin', 2, by(2), ['span 0: e', 'span 1: f']);
    assert.equal(lines.length, 1, 'rate-limited');
    now += 1;
    log.report('zipkin', 1, by(1), ['span 4: g']);
    assert.equal(lines.length, 2);
    assert.equal(lines[1], 'zipkin: refused 1 span of a request that was answered as accepted (invalid_span 1): span 4: g (before this, 3 more refused in 2 requests went unlogged; see linktrace_spans_rejected_total)');
  });
});
