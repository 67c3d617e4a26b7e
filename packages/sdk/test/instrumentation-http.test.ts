import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { Socket, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Span } from '@linktrace/model';
import { CollectingSpanProcessor, createTracing, HttpTransport, runWithContext, activeContext } from '../src/index.js';
import { instrument, isWrapped, type InstrumentationHandle } from '../src/instrumentations/core/index.js';
import { httpInstrumentation, serverSpanOf } from '../src/instrumentations/http/index.js';

const collector = new CollectingSpanProcessor();
const tracing = createTracing({ service: 'http-instr-test', processors: [collector] });
const originalRequest = http.request;
let handle: InstrumentationHandle;

function listen(handler: http.RequestListener): Promise<{ server: http.Server; url: string; port: number }> {
  const server = http.createServer(handler);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}`, port });
    });
  });
}

function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Reads a response to the end; resolves with status and body. */
function readAll(res: http.IncomingMessage): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    res.on('error', reject);
  });
}

async function waitForSpans(predicate: (spans: Span[]) => boolean, what: string): Promise<Span[]> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (predicate(collector.spans)) return collector.spans;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}; have ${collector.spans.map((s) => `${s.kind}:${s.name}`).join(', ')}`);
}

const byKind = (spans: Span[], kind: string) => spans.filter((s) => s.kind === kind);

describe('http instrumentation', () => {
  before(() => {
    handle = instrument({ tracing, instrumentations: [httpInstrumentation()] });
    assert.deepEqual(handle.enabled, ['http']);
  });
  after(() => {
    handle.disable();
    assert.equal(http.request, originalRequest);
    assert.equal(isWrapped(http.get), false);
    assert.equal(isWrapped(https.request), false);
  });

  it('server span → client span → downstream server span: one trace, parents, positions, headers', async () => {
    collector.clear();
    let seenTraceparent: string | undefined;
    const downstream = await listen((req, res) => {
      seenTraceparent = req.headers.traceparent as string | undefined;
      res.end('down');
    });
    const front = await listen((_req, res) => {
      const inHandler = activeContext().span;
      http.get(`${downstream.url}/items?id=1`, (down) => {
        void readAll(down).then(({ body }) => {
          // The callback runs in the handler's context, not the client span's.
          assert.equal(activeContext().span, inHandler);
          res.end(`front:${body}`);
        });
      });
    });
    try {
      const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        http.get(`${front.url}/start`, (res) => void readAll(res).then(resolve, reject)).on('error', reject);
      });
      assert.deepEqual(reply, { status: 200, body: 'front:down' });
      const spans = await waitForSpans((s) => s.length >= 4, 'four spans');
      const servers = byKind(spans, 'server');
      const clients = byKind(spans, 'client');
      assert.equal(servers.length, 2);
      assert.equal(clients.length, 2);
      const root = clients.find((s) => s.parentSpanId === undefined)!;
      const front1 = servers.find((s) => s.parentSpanId === root.spanId)!;
      const inner = clients.find((s) => s.parentSpanId === front1.spanId)!;
      const down = servers.find((s) => s.parentSpanId === inner.spanId)!;
      assert.ok(root && front1 && inner && down, 'tree is complete');
      for (const s of spans) assert.equal(s.traceId, root.traceId);
      assert.deepEqual([root.rpcid, front1.rpcid, inner.rpcid, down.rpcid], ['0', '0', '0.1', '0.1']);
      assert.match(seenTraceparent ?? '', new RegExp(`^00-${root.traceId}-${inner.spanId}-01$`));
      assert.equal(front1.name, 'GET');
      assert.equal(front1.attributes['url.path'], '/start');
      assert.equal(front1.attributes['http.response.status_code'], 200);
      assert.equal(front1.attributes['client.address'], '127.0.0.1');
      assert.equal(inner.attributes['url.full'], `${downstream.url}/items`);
      assert.equal(inner.attributes['server.address'], '127.0.0.1');
      assert.equal(inner.attributes['server.port'], downstream.port);
      assert.equal(inner.attributes['http.response.status_code'], 200);
      assert.equal(inner.attributes['http.response.body.size'], 4);
      assert.equal(down.attributes['http.response.body.size'], 4);
      assert.equal(front1.status.code, 'unset');
    } finally {
      await close(front.server);
      await close(downstream.server);
    }
  });

  it('reads incoming trace headers whatever their case on the wire (W3C over B3), and each request its own Host', async () => {
    collector.clear();
    const { server, port } = await listen((_req, res) => res.end('ok'));
    // A raw socket: header names go out exactly as written here (no client instrumentation either).
    const send = (head: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = new Socket();
        let answer = '';
        socket.setEncoding('utf8');
        socket.on('data', (c: string) => (answer += c));
        socket.on('end', () => resolve(answer));
        socket.on('error', reject);
        socket.connect(port, '127.0.0.1', () => socket.end(`GET /raw HTTP/1.1\r\n${head}Connection: close\r\n\r\n`));
      });
    try {
      const b3Trace = '0af7651916cd43dd8448eb211c80319c';
      const w3cTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
      assert.match(await send(`Host: Example.test:8081\r\nX-B3-TraceId: ${b3Trace}\r\nX-B3-SpanId: b7ad6b7169203331\r\nX-B3-Sampled: 1\r\n`), /^HTTP\/1\.1 200/);
      assert.match(await send(`Host: other.test\r\nTraceParent: 00-${w3cTrace}-00f067aa0ba902b7-01\r\nX-B3-TraceId: ${b3Trace}\r\nX-B3-SpanId: b7ad6b7169203331\r\n`), /^HTTP\/1\.1 200/);
      assert.match(await send('Host: Example.test:8081\r\n'), /^HTTP\/1\.1 200/);
      const servers = byKind(await waitForSpans((spans) => byKind(spans, 'server').length === 3, 'three server spans'), 'server');
      const [b3, w3c, root] = servers;
      assert.deepEqual([b3!.traceId, b3!.parentSpanId], [b3Trace, 'b7ad6b7169203331']);
      assert.deepEqual([w3c!.traceId, w3c!.parentSpanId], [w3cTrace, '00f067aa0ba902b7']);
      assert.equal(root!.parentSpanId, undefined);
      assert.notEqual(root!.traceId, b3Trace);
      assert.deepEqual(
        servers.map((s) => [s.attributes['server.address'], s.attributes['server.port']]),
        [['Example.test', 8081], ['other.test', 80], ['Example.test', 8081]],
      );
    } finally {
      await close(server);
    }
  });

  it('counts body bytes actually read and written, and times reading and writing', async () => {
    collector.clear();
    const payload = 'x'.repeat(100_000);
    let firstChunk!: () => void;
    const firstChunkSeen = new Promise<void>((resolve) => (firstChunk = resolve));
    const app = await listen((req, res) => {
      let got = 0;
      req.on('data', (c: Buffer) => {
        got += c.length;
        firstChunk();
      });
      req.on('end', () => {
        res.write('é'.repeat(10)); // 20 bytes in utf8
        res.write(Buffer.alloc(30));
        res.end(`got ${got}`);
      });
    });
    try {
      const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(`${app.url}/upload`, { method: 'POST' }, (res) => void readAll(res).then(resolve, reject));
        req.on('error', reject);
        // Written in two parts, without content-length: the sizes come from the bytes themselves.
        req.write(payload.slice(0, 40_000));
        void firstChunkSeen.then(() => setTimeout(() => req.end(payload.slice(40_000)), 30));
      });
      assert.equal(reply.body.endsWith('got 100000'), true);
      const spans = await waitForSpans((s) => s.length >= 2, 'two spans');
      const server = byKind(spans, 'server')[0]!;
      const client = byKind(spans, 'client')[0]!;
      assert.equal(server.name, 'POST');
      assert.equal(server.attributes['http.request.body.size'], 100_000);
      assert.equal(server.attributes['http.response.body.size'], 20 + 30 + 'got 100000'.length);
      assert.equal(client.attributes['http.request.body.size'], 100_000);
      assert.equal(client.attributes['http.response.body.size'], 60);
      // The server waited ~30 ms for the second half of the body.
      assert.ok((server.attributes['linktrace.http.request_read_us'] as number) >= 25_000, String(server.attributes['linktrace.http.request_read_us']));
      assert.ok((client.attributes['linktrace.http.request_write_us'] as number) >= 25_000);
      assert.equal(typeof server.attributes['linktrace.http.response_write_us'], 'number');
      assert.equal(typeof client.attributes['linktrace.http.response_read_us'], 'number');
      assert.equal(typeof client.attributes['linktrace.http.time_to_response_us'], 'number');
      // The server span starts and ends with the exchange's own clock readings (one clock, one
      // process): it covers reading and writing, and ends before the client got the whole answer.
      const read = server.attributes['linktrace.http.request_read_us'] as number;
      const write = server.attributes['linktrace.http.response_write_us'] as number;
      assert.ok(server.durationUs! >= read + write - 2, `${server.durationUs} < ${read} + ${write}`);
      assert.ok(server.startUs >= client.startUs, 'the server span starts after the client span');
      assert.ok(server.startUs + server.durationUs! <= client.startUs + client.durationUs! + 1, 'the server span ends before the client span');
    } finally {
      await close(app.server);
    }
  });

  it('status >= 500 is a server error, >= 400 a client error; 404 is fine on the server', async () => {
    collector.clear();
    const app = await listen((req, res) => {
      res.statusCode = req.url === '/boom' ? 503 : 404;
      res.end();
    });
    try {
      for (const path of ['/boom', '/missing']) {
        await new Promise<void>((resolve, reject) => {
          http.get(`${app.url}${path}`, (res) => void readAll(res).then(() => resolve(), reject)).on('error', reject);
        });
      }
      const spans = await waitForSpans((s) => s.length >= 4, 'four spans');
      const server503 = spans.find((s) => s.kind === 'server' && s.attributes['url.path'] === '/boom')!;
      const server404 = spans.find((s) => s.kind === 'server' && s.attributes['url.path'] === '/missing')!;
      const client404 = spans.find((s) => s.kind === 'client' && s.attributes['url.path'] === '/missing')!;
      assert.equal(server503.status.code, 'error');
      assert.equal(server404.status.code, 'unset');
      assert.equal(client404.status.code, 'error');
      assert.equal(client404.attributes['http.response.status_code'], 404);
    } finally {
      await close(app.server);
    }
  });

  it('an exception thrown by a handler is recorded on the server span and rethrown unchanged', () => {
    collector.clear();
    const thrown = new RangeError('handler broke');
    const server = http.createServer(() => {
      assert.ok(serverSpanOf(req)?.isRecording());
      throw thrown;
    });
    const req = new http.IncomingMessage(new Socket());
    req.method = 'PATCH';
    req.url = '/x?secret=1';
    req.headers = { host: 'example.test:8080' };
    const res = new http.ServerResponse(req);
    assert.throws(() => server.emit('request', req, res), (error) => error === thrown);
    res.emit('close');
    const span = collector.spans[0]!;
    assert.equal(span.kind, 'server');
    assert.equal(span.name, 'PATCH');
    assert.equal(span.status.code, 'error');
    assert.equal(span.events.some((e) => e.name === 'exception' && e.attributes?.['exception.message'] === 'handler broke'), true);
    assert.equal(span.attributes['url.path'], '/x');
    assert.equal(span.attributes['url.query'], undefined);
    assert.equal(span.attributes['server.address'], 'example.test');
    assert.equal(span.attributes['server.port'], 8080);
    // Other events go through untouched.
    let custom = 0;
    server.on('custom', () => custom++);
    assert.equal(server.emit('custom'), true);
    assert.equal(custom, 1);
  });

  it('a client that goes away mid-response marks the server span aborted', async () => {
    collector.clear();
    const app = await listen((_req, res) => {
      res.write('partial');
      // Never ends: the client destroys the connection.
    });
    try {
      await new Promise<void>((resolve) => {
        const req = http.get(app.url, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => {});
      });
      const spans = await waitForSpans((s) => byKind(s, 'server').length >= 1 && byKind(s, 'client').length >= 1, 'both spans');
      const server = byKind(spans, 'server')[0]!;
      assert.equal(server.attributes['linktrace.http.aborted'], true);
      assert.equal(server.status.code, 'error');
      const client = byKind(spans, 'client')[0]!;
      assert.equal(client.status.code, 'error');
      assert.match(client.status.message ?? '', /closed|aborted|hang up/);
    } finally {
      await close(app.server);
    }
  });

  it('supports every call form and returns what Node returns', async () => {
    collector.clear();
    const seen: string[] = [];
    const app = await listen((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.traceparent === undefined ? 'no-tp' : 'tp'} ${req.headers['x-extra'] ?? ''}`);
      res.end('ok');
    });
    const done = (req: http.ClientRequest) =>
      new Promise<void>((resolve, reject) => {
        req.on('response', (res) => void readAll(res).then(() => resolve(), reject));
        req.on('error', reject);
      });
    try {
      // (url string, options, callback)
      let called = false;
      const r1 = http.request(`${app.url}/a`, { headers: { 'x-extra': '1' } }, () => (called = true));
      assert.ok(r1 instanceof http.ClientRequest);
      r1.end();
      await done(r1);
      assert.equal(called, true);
      // get(URL), no callback
      const r2 = http.get(new URL(`${app.url}/b`));
      await done(r2);
      // get(options), no callback, returned value can be chained
      const { port } = app.server.address() as AddressInfo;
      const r3 = http.get({ host: '127.0.0.1', port, path: '/c?q=1', headers: { 'x-extra': '3' } });
      await done(r3);
      // request(options) with raw header array: headers are already rendered, nothing is injected
      const r4 = http.request({ host: '127.0.0.1', port, path: '/d', method: 'PUT', headers: ['host', `127.0.0.1:${port}`, 'x-extra', '4'] });
      r4.end('body');
      await done(r4);
      // a URL string with an odd method
      const r5 = http.request(`${app.url}/e`, { method: 'PURGE' });
      r5.end();
      await done(r5);
      assert.deepEqual(seen, ['GET /a tp 1', 'GET /b tp ', 'GET /c?q=1 tp 3', 'PUT /d no-tp 4', 'PURGE /e tp ']);
      const spans = await waitForSpans((s) => byKind(s, 'client').length >= 5, 'five client spans');
      const clients = byKind(spans, 'client');
      assert.deepEqual(clients.map((s) => s.name).sort(), ['GET', 'GET', 'GET', 'PUT', '_OTHER']);
      const other = clients.find((s) => s.name === '_OTHER')!;
      assert.equal(other.attributes['http.request.method_original'], 'PURGE');
      assert.equal(clients.find((s) => s.name === 'PUT')!.attributes['http.request.body.size'], 4);
      // Errors thrown by Node for bad arguments are the same as without tracing.
      assert.throws(() => http.request('not a url'), (e: NodeJS.ErrnoException) => e.code === 'ERR_INVALID_URL');
      assert.throws(() => http.get({ host: '127.0.0.1', port, method: 'BAD METHOD' }), (e: NodeJS.ErrnoException) => e.code === 'ERR_INVALID_HTTP_TOKEN');
    } finally {
      await close(app.server);
    }
  });

  it('a failed call marks the client span with the exception; the error reaches the caller unchanged', async () => {
    collector.clear();
    const app = await listen(() => {});
    const { port } = app.server.address() as AddressInfo;
    await close(app.server); // nothing listens there now
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
      http.get(`http://127.0.0.1:${port}/gone`).on('error', resolve);
    });
    assert.equal(error.code, 'ECONNREFUSED');
    const [span] = await waitForSpans((s) => s.length >= 1, 'the client span');
    assert.equal(span!.status.code, 'error');
    assert.equal(span!.attributes['error.type'], 'ECONNREFUSED');
    assert.equal(span!.events[0]?.name, 'exception');
    // https too (connection refused before any TLS)
    collector.clear();
    const httpsError = await new Promise<NodeJS.ErrnoException>((resolve) => {
      https.request({ host: '127.0.0.1', port, path: '/tls' }).on('error', resolve).end();
    });
    assert.equal(httpsError.code, 'ECONNREFUSED');
    const [tlsSpan] = await waitForSpans((s) => s.length >= 1, 'the https client span');
    assert.equal(tlsSpan!.attributes['url.scheme'], 'https');
    assert.equal(tlsSpan!.attributes['url.full'], `https://127.0.0.1:${port}/tls`);
  });

  it("the SDK's own export requests are not traced and carry no trace headers", async () => {
    collector.clear();
    let headers: http.IncomingHttpHeaders | undefined;
    const sink = await listen((req, res) => {
      headers = req.headers;
      req.resume();
      req.on('end', () => res.end());
    });
    try {
      // The sink's server span is expected (it is an ordinary server here); no client span may appear.
      const transport = new HttpTransport({ url: `${sink.url}/v1/traces` });
      const outer = tracing.getTracer('t').startSpan('outer');
      const outcome = await runWithContext(activeContext().withSpan(outer), () => transport.send('{}', 'application/json'));
      outer.end();
      transport.shutdown();
      assert.equal(outcome.result.code, 'success');
      assert.equal(headers?.traceparent, undefined);
      const spans = await waitForSpans((s) => s.some((x) => x.kind === 'server'), 'the sink server span');
      assert.equal(byKind(spans, 'client').length, 0);
    } finally {
      await close(sink.server);
    }
  });
});
