import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, OutgoingMessage, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import {
  amqpHeadersGetter,
  amqpHeadersSetter,
  fetchHeadersGetter,
  fetchHeadersSetter,
  grpcMetadataGetter,
  grpcMetadataSetter,
  headerGetter,
  headerSetter,
  injectIntoUrl,
  natsHeadersGetter,
  natsHeadersSetter,
  urlSearchParamsGetter,
  urlSearchParamsSetter,
  type GetSetHeaders,
  type GrpcMetadataLike,
  type HttpHeaderCarrier,
} from '../src/propagation/carriers.js';
import { defaultPropagator } from '../src/propagation/composite.js';
import type { Propagated } from '../src/types.js';
import { SPAN_ID, TRACE_ID, VALID_TRACEPARENT } from './propagation-helpers.js';

const propagator = defaultPropagator();
const CONTEXT: Propagated = {
  spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, rpcid: '0.1' },
  baggage: new Map([['user', { value: 'Amélie' }]]),
};

/**
 * The semantics of nats.js `MsgHdrs` that matter here (the package is not a dependency): keys are
 * case-sensitive and `get` returns '' for a missing key.
 */
class NatsStyleHeaders implements GetSetHeaders {
  private readonly map = new Map<string, string[]>();
  get(key: string): string {
    return this.map.get(key)?.[0] ?? '';
  }
  set(key: string, value: string): void {
    this.map.set(key, [value]);
  }
  keys(): string[] {
    return [...this.map.keys()];
  }
}

/** The semantics of @grpc/grpc-js `Metadata`: lowercase keys, values as arrays of strings or Buffers. */
class GrpcStyleMetadata implements GrpcMetadataLike {
  private readonly map = new Map<string, Array<string | Uint8Array>>();
  get(key: string): Array<string | Uint8Array> {
    return this.map.get(key.toLowerCase()) ?? [];
  }
  set(key: string, value: string): void {
    this.map.set(key.toLowerCase(), [value]);
  }
  add(key: string, value: string | Uint8Array): void {
    this.map.set(key.toLowerCase(), [...this.get(key), value]);
  }
  getMap(): Record<string, unknown> {
    return Object.fromEntries([...this.map].map(([k, v]) => [k, v[0]]));
  }
}

void describe('HTTP header carriers', () => {
  void test('headerGetter reads lowercase, mixed-case and repeated headers', () => {
    const headers = { traceparent: 'a', 'X-B3-TraceId': 'b', tracestate: ['x=1', 'y=2'], 'content-length': 12 };
    assert.equal(headerGetter.get(headers, 'traceparent'), 'a');
    assert.equal(headerGetter.get(headers, 'x-b3-traceid'), 'b');
    assert.equal(headerGetter.get(headers, 'TRACEPARENT'), 'a');
    assert.deepEqual(headerGetter.get(headers, 'tracestate'), ['x=1', 'y=2']);
    assert.equal(headerGetter.get(headers, 'content-length'), '12');
    assert.equal(headerGetter.get(headers, 'baggage'), undefined);
    assert.deepEqual(headerGetter.keys(headers), ['traceparent', 'X-B3-TraceId', 'tracestate', 'content-length']);
  });

  void test('headerGetter returns undefined for carriers and values it cannot read', () => {
    for (const carrier of [undefined, null, 'traceparent', 42]) {
      assert.equal(headerGetter.get(carrier as unknown as HttpHeaderCarrier, 'traceparent'), undefined);
      assert.deepEqual(headerGetter.keys(carrier as unknown as HttpHeaderCarrier), []);
    }
    const odd = { a: { nested: 1 }, b: [1, 'x', {}], c: [{}] } as unknown as HttpHeaderCarrier;
    assert.equal(headerGetter.get(odd, 'a'), undefined);
    assert.deepEqual(headerGetter.get(odd, 'b'), ['1', 'x']);
    assert.equal(headerGetter.get(odd, 'c'), undefined);
  });

  void test('headerSetter replaces a header of the same name in another case', () => {
    const headers: Record<string, string> = { TraceParent: 'old', TRACEPARENT: 'older', other: '1' };
    headerSetter.set(headers, 'traceparent', 'new');
    assert.deepEqual(headers, { other: '1', traceparent: 'new' });
  });

  void test('headerGetter and headerSetter use getHeader/setHeader on a Node OutgoingMessage', () => {
    const msg = new OutgoingMessage();
    msg.setHeader('TraceParent', 'old');
    headerSetter.set(msg, 'traceparent', VALID_TRACEPARENT);
    assert.equal(msg.getHeader('traceparent'), VALID_TRACEPARENT);
    assert.deepEqual(msg.getHeaderNames(), ['traceparent']);
    assert.equal(headerGetter.get(msg, 'TRACEPARENT'), VALID_TRACEPARENT);
    assert.deepEqual(headerGetter.keys(msg), ['traceparent']);
  });

  void test('over a real HTTP exchange: extract from req.headers, inject into ServerResponse and ClientRequest', async () => {
    let seen: Propagated | undefined;
    let seenDistinct: Propagated | undefined;
    const server = createServer((req: IncomingMessage, res) => {
      seen = propagator.extract({}, req.headers, headerGetter);
      seenDistinct = propagator.extract({}, req.headersDistinct, headerGetter);
      propagator.inject({ spanContext: { ...seen.spanContext!, spanId: 'b9c7c989f97918e1', rpcid: '0.1.1' } }, res, headerSetter);
      res.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const req = request({ host: '127.0.0.1', port, path: '/', method: 'GET' });
      propagator.inject(CONTEXT, req, headerSetter);
      req.setHeader('TraceState', ['rojo=1', 'congo=2']); // sent as two header lines, overriding what inject wrote
      req.setHeader('Baggage', ['user=Am%C3%A9lie', 'team=core']);
      req.end();
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      res.resume();
      await once(res, 'end');
      assert.equal(seen?.spanContext?.traceId, TRACE_ID);
      assert.equal(seen?.spanContext?.traceState, 'rojo=1,congo=2');
      assert.deepEqual(Object.fromEntries([...(seen?.baggage ?? [])].map(([k, e]) => [k, e.value])), { user: 'Amélie', team: 'core' });
      assert.deepEqual(seenDistinct, seen);
      assert.equal(res.headers.traceparent, `00-${TRACE_ID}-b9c7c989f97918e1-01`);
      assert.equal(res.headers.tracestate, 'lt=0.1.1,rojo=1,congo=2');
    } finally {
      server.close();
    }
  });
});

void describe('message carriers', () => {
  void test('AMQP headers: strings, Buffers and numbers; names in any case', () => {
    const headers: Record<string, unknown> = {
      traceparent: Buffer.from(VALID_TRACEPARENT),
      'X-B3-Sampled': 1,
      tracestate: 'a=1',
      list: [Buffer.from('x=1'), 'y=2'],
    };
    assert.equal(amqpHeadersGetter.get(headers, 'traceparent'), VALID_TRACEPARENT);
    assert.equal(amqpHeadersGetter.get(headers, 'x-b3-sampled'), '1');
    assert.deepEqual(amqpHeadersGetter.get(headers, 'list'), ['x=1', 'y=2']);
    assert.equal(amqpHeadersGetter.get(undefined, 'traceparent'), undefined);
    assert.deepEqual(amqpHeadersGetter.keys(undefined), []);
    assert.equal(amqpHeadersGetter.get({ big: Buffer.alloc(70_000, 0x61) }, 'big'), undefined);
  });

  void test('AMQP round trip through a publish headers object', () => {
    const headers: Record<string, unknown> = {};
    propagator.inject(CONTEXT, headers, amqpHeadersSetter);
    assert.deepEqual(Object.keys(headers), ['traceparent', 'tracestate', 'baggage']);
    // What a consumer written with another client may see: Buffer values.
    const received = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(String(v))]));
    const out = propagator.extract({}, received, amqpHeadersGetter);
    assert.equal(out.spanContext?.rpcid, '0.1');
    assert.equal(out.baggage?.get('user')?.value, 'Amélie');
  });

  void test('NATS headers: exact name, then any case; empty counts as absent', () => {
    const h = new NatsStyleHeaders();
    h.set('Traceparent', VALID_TRACEPARENT);
    h.set('baggage', '');
    assert.equal(natsHeadersGetter.get(h, 'traceparent'), VALID_TRACEPARENT);
    assert.equal(natsHeadersGetter.get(h, 'baggage'), undefined);
    assert.deepEqual(natsHeadersGetter.keys(h), ['Traceparent', 'baggage']);
  });

  void test('NATS round trip', () => {
    const h = new NatsStyleHeaders();
    propagator.inject(CONTEXT, h, natsHeadersSetter);
    const out = propagator.extract({}, h, natsHeadersGetter);
    assert.equal(out.spanContext?.traceId, TRACE_ID);
    assert.equal(out.baggage?.get('user')?.value, 'Amélie');
  });

  void test('fetch Headers share the same shape', () => {
    const h = new Headers();
    propagator.inject(CONTEXT, h, fetchHeadersSetter);
    assert.equal(h.get('TraceParent'), VALID_TRACEPARENT);
    assert.equal(propagator.extract({}, h, fetchHeadersGetter).spanContext?.rpcid, '0.1');
    assert.deepEqual(fetchHeadersGetter.keys(h), ['baggage', 'traceparent', 'tracestate']);
  });

  void test('gRPC metadata: lowercase names, string and binary values', () => {
    const md = new GrpcStyleMetadata();
    propagator.inject(CONTEXT, md, grpcMetadataSetter);
    assert.equal(propagator.extract({}, md, grpcMetadataGetter).spanContext?.traceId, TRACE_ID);
    md.add('tracestate', Buffer.from('a=1'));
    md.add('tracestate', 'b=2');
    assert.deepEqual(grpcMetadataGetter.get(md, 'TraceState'), ['lt=0.1', 'a=1', 'b=2']);
    assert.equal(grpcMetadataGetter.get(md, 'missing'), undefined);
    assert.deepEqual(grpcMetadataGetter.keys(md), ['traceparent', 'tracestate', 'baggage']);
  });

  void test('message getters ignore carriers of the wrong kind', () => {
    const bad = [undefined, null, 1, 'x', {}] as unknown[];
    for (const c of bad) {
      assert.equal(natsHeadersGetter.get(c as GetSetHeaders, 'traceparent'), undefined);
      assert.equal(grpcMetadataGetter.get(c as GrpcMetadataLike, 'traceparent'), undefined);
      assert.equal(urlSearchParamsGetter.get(c as URLSearchParams, 'traceparent'), undefined);
      assert.doesNotThrow(() => natsHeadersSetter.set(c as GetSetHeaders, 'k', 'v'));
    }
  });
});

void describe('URL query carriers', () => {
  void test('URLSearchParams: exact name, then any case; repeated parameters as an array', () => {
    const params = new URLSearchParams(`Traceparent=${VALID_TRACEPARENT}&tracestate=a%3D1&tracestate=b%3D2`);
    assert.equal(urlSearchParamsGetter.get(params, 'traceparent'), VALID_TRACEPARENT);
    assert.deepEqual(urlSearchParamsGetter.get(params, 'tracestate'), ['a=1', 'b=2']);
    assert.deepEqual(urlSearchParamsGetter.keys(params), ['Traceparent', 'tracestate']);
    urlSearchParamsSetter.set(params, 'tracestate', 'c=3');
    assert.equal(params.getAll('tracestate').length, 1);
  });

  void test('injectIntoUrl adds parameters and keeps the rest of the URL byte for byte', () => {
    const url = 'https://example.com/a%20b/?q=x+y&z=%7E#frag?x=1';
    const out = injectIntoUrl(url, propagator, CONTEXT);
    assert.ok(out.startsWith('https://example.com/a%20b/?q=x+y&z=%7E&traceparent='), out);
    assert.ok(out.endsWith('#frag?x=1'), out);
    const params = new URL(out).searchParams;
    assert.equal(params.get('tracestate'), 'lt=0.1');
    assert.equal(params.get('baggage'), 'user=Am%C3%A9lie');
    assert.equal(propagator.extract({}, params, urlSearchParamsGetter).baggage?.get('user')?.value, 'Amélie');
  });

  void test('injectIntoUrl replaces parameters of the same name in any case', () => {
    const out = injectIntoUrl('/path?TraceParent=stale&traceparent=older&keep=1', propagator, { spanContext: CONTEXT.spanContext });
    assert.equal(out, `/path?keep=1&traceparent=${VALID_TRACEPARENT}&tracestate=lt%3D0.1`);
  });

  void test('injectIntoUrl accepts a URL object and relative URLs without a query', () => {
    assert.equal(injectIntoUrl(new URL('http://h/p'), propagator, { spanContext: CONTEXT.spanContext }), `http://h/p?traceparent=${VALID_TRACEPARENT}&tracestate=lt%3D0.1`);
    assert.equal(injectIntoUrl('next', propagator, { baggage: new Map([['a', { value: '1' }]]) }), 'next?baggage=a%3D1');
  });

  void test('injectIntoUrl returns the URL unchanged when there is nothing to add', () => {
    assert.equal(injectIntoUrl('/p?x=1', propagator, {}), '/p?x=1');
    assert.equal(injectIntoUrl(undefined as unknown as string, propagator, CONTEXT), '');
  });
});
