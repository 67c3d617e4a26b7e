import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline, Transform, Writable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import type { Span } from '@linktrace/model';
import { activeContext, CollectingSpanProcessor, createTracing, runWithContext } from '../src/index.js';
import { instrument, type InstrumentationHandle } from '../src/instrumentations/core/index.js';
import { httpInstrumentation } from '../src/instrumentations/http/index.js';

// Code that runs in an event of a traced request or response (the body's 'data'/'end', a pipeline's
// callback, a Transform's later chunks…) must see the request's context: a call made there belongs
// to the caller's trace. A server's sockets belong to the connection, not to the request, so without
// the instrumentation's help these events run outside any trace.

const collector = new CollectingSpanProcessor();
const tracing = createTracing({ service: 'http-context-test', processors: [collector] });
let handle: InstrumentationHandle;

/** 1 MiB: it reaches the server in several chunks (the client writes it in 16 parts). */
const BODY_PARTS = 16;
const PART = Buffer.alloc(64 * 1024, 'x');

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, callDown: (tag: string) => Promise<void>) => void | Promise<void>;

let downUrl = '';
let downServer: http.Server;
let frontServer: http.Server;
let frontUrl = '';
const handlers = new Map<string, Handler>();

function listen(handler: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(handler);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });
}

async function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** GET <downstream>/down/<tag>, read to the end. */
function callDown(tag: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get(`${downUrl}/down/${tag}`, (res) => {
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject);
  });
}

/** POSTs 1 MiB to the front server's `/<pattern>`, in parts; resolves with the status. */
function post(pattern: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${frontUrl}/${pattern}`, { method: 'POST' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    let written = 0;
    const writeNext = (): void => {
      if (written === BODY_PARTS) {
        req.end();
        return;
      }
      written++;
      if (req.write(PART)) setImmediate(writeNext);
      else req.once('drain', writeNext);
    };
    writeNext();
  });
}

async function waitForSpans(predicate: (spans: Span[]) => boolean, what: string): Promise<Span[]> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (predicate(collector.spans)) return collector.spans;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}; have ${collector.spans.map((s) => `${s.kind}:${s.attributes['url.path']}`).join(', ')}`);
}

const downSpan = (spans: Span[], tag: string) => spans.find((s) => s.kind === 'server' && s.attributes['url.path'] === `/down/${tag}`);

/**
 * Runs `handler` as the front server's handler for one POST and checks that the downstream call it
 * makes (tag = pattern, the handler's `nthCall`-th call) is in the POST's trace: downstream server
 * span ← client span ← front server span.
 */
async function assertJoinsTrace(pattern: string, handler: Handler, nthCall = 1): Promise<void> {
  collector.clear();
  handlers.set(pattern, handler);
  assert.equal(await post(pattern), 200);
  // The call's client span ends after the downstream server span (when its answer is read): wait for it too.
  const called = (s: Span[]): boolean => {
    const down = downSpan(s, pattern);
    return down !== undefined && s.some((c) => c.spanId === down.parentSpanId);
  };
  const spans = await waitForSpans((s) => called(s) && s.some((x) => x.attributes['url.path'] === `/${pattern}` && x.kind === 'server'), `the downstream call of ${pattern}`);
  const front = spans.find((s) => s.kind === 'server' && s.attributes['url.path'] === `/${pattern}`)!;
  const down = downSpan(spans, pattern)!;
  const client = spans.find((s) => s.spanId === down.parentSpanId);
  assert.equal(down.traceId, front.traceId, `${pattern}: the downstream call started a new trace`);
  assert.ok(client, `${pattern}: the downstream span's parent is a client span of this process`);
  assert.equal(client.kind, 'client');
  assert.equal(client.parentSpanId, front.spanId, `${pattern}: the client span is a child of the front server span`);
  assert.equal(client.rpcid, `${front.rpcid}.${nthCall}`);
}

describe('http instrumentation: context through request and response events', () => {
  before(async () => {
    handle = instrument({ tracing, instrumentations: [httpInstrumentation()] });
    const down = await listen((req, res) => {
      // A body of several chunks, written over several turns: the client reads it in several events.
      let left = 8;
      const next = (): void => {
        if (--left === 0) res.end(PART);
        else if (res.write(PART)) setImmediate(next);
        else res.once('drain', next);
      };
      req.resume();
      next();
    });
    downServer = down.server;
    downUrl = down.url;
    const front = await listen((req, res) => {
      const handler = handlers.get((req.url ?? '/').slice(1));
      if (handler === undefined) res.writeHead(404).end();
      else void handler(req, res, callDown);
    });
    frontServer = front.server;
    frontUrl = front.url;
  });
  after(async () => {
    handle.disable();
    // The emit hooks shadowed inherited methods: disabling removes them rather than copying them down.
    assert.equal(Object.hasOwn(http.IncomingMessage.prototype, 'emit'), false);
    assert.equal(Object.hasOwn(http.OutgoingMessage.prototype, 'emit'), false);
    await close(frontServer);
    await close(downServer);
  });

  it("req.on('end'): a call made once the body is read", async () => {
    await assertJoinsTrace('on-end', (req, res, down) => {
      req.on('data', () => undefined);
      req.on('end', () => void down('on-end').then(() => res.end()));
    });
  });

  it("req.on('data') after the first chunk", async () => {
    await assertJoinsTrace('later-data', (req, res, down) => {
      let chunks = 0;
      let called: Promise<void> | undefined;
      req.on('data', () => {
        if (++chunks === 2) called = down('later-data');
      });
      req.on('end', () => {
        assert.ok(chunks >= 2, `the body came in ${chunks} chunk(s)`);
        void called!.then(() => res.end());
      });
    });
  });

  it("resume() then 'end'", async () => {
    await assertJoinsTrace('resume-end', (req, res, down) => {
      req.resume();
      req.once('end', () => void down('resume-end').then(() => res.end()));
    });
  });

  it("'readable' and read()", async () => {
    await assertJoinsTrace('readable', (req, res, down) => {
      let called: Promise<void> | undefined;
      let reads = 0;
      req.on('readable', () => {
        while (req.read() !== null) if (++reads === 2) called = down('readable');
      });
      req.on('end', () => void called!.then(() => res.end()));
    });
  });

  it('stream.pipeline(req, writable, callback): the callback', async () => {
    await assertJoinsTrace('pipeline-callback', (req, res, down) => {
      const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
      pipeline(req, sink, (error) => {
        assert.equal(error ?? undefined, undefined);
        void down('pipeline-callback').then(() => res.end());
      });
    });
  });

  it('a Transform in a pipeline: its later chunks', async () => {
    await assertJoinsTrace('transform-chunk', (req, res, down) => {
      let chunks = 0;
      let called: Promise<void> | undefined;
      const transform = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          if (++chunks === 3) called = down('transform-chunk');
          done(null, chunk);
        },
      });
      pipeline(req, transform, new Writable({ write: (_chunk, _encoding, done) => done() }), () => void called!.then(() => res.end()));
    });
  });

  it('for await (const chunk of req), and await pipeline() from stream/promises', async () => {
    await assertJoinsTrace('for-await', async (req, res, down) => {
      let chunks = 0;
      for await (const _chunk of req) chunks++;
      assert.ok(chunks >= 2);
      await down('for-await');
      res.end();
    });
    await assertJoinsTrace('await-pipeline', async (req, res, down) => {
      await pipelineAsync(req, new Writable({ write: (_chunk, _encoding, done) => done() }));
      await down('await-pipeline');
      res.end();
    });
  });

  it("res.on('finish') and req.on('close') after a response ended from the body's 'end'", async () => {
    await assertJoinsTrace('response-finish', (req, res, down) => {
      res.on('finish', () => void down('response-finish'));
      req.resume();
      req.on('end', () => res.end());
    });
    await assertJoinsTrace('request-close', (req, res, down) => {
      req.on('close', () => void down('request-close'));
      req.resume();
      req.on('end', () => res.end());
    });
  });

  it("req.on('error') and req.on('aborted') when the client goes away mid-body", async () => {
    collector.clear();
    handlers.set('client-gone', (req, _res, down) => {
      req.on('data', () => undefined);
      req.on('error', () => void down('client-gone-error'));
      req.on('aborted', () => void down('client-gone-aborted'));
    });
    await new Promise<void>((resolve) => {
      const req = http.request(`${frontUrl}/client-gone`, { method: 'POST', agent: false });
      req.on('error', () => resolve());
      req.write(PART);
      req.write(PART, () => setTimeout(() => req.destroy(), 20));
    });
    // The calls' client spans end after the downstream server spans (when the answer is read): wait for those too.
    const called = (s: Span[], tag: string): boolean => {
      const down = downSpan(s, tag);
      return down !== undefined && s.some((c) => c.spanId === down.parentSpanId);
    };
    const spans = await waitForSpans((s) => called(s, 'client-gone-error') && called(s, 'client-gone-aborted'), 'both downstream calls');
    const front = spans.find((s) => s.kind === 'server' && s.attributes['url.path'] === '/client-gone')!;
    assert.equal(front.attributes['linktrace.http.aborted'], true);
    for (const tag of ['client-gone-error', 'client-gone-aborted']) {
      const down = downSpan(spans, tag)!;
      const client = spans.find((s) => s.spanId === down.parentSpanId);
      assert.equal(down.traceId, front.traceId, `${tag}: the downstream call started a new trace`);
      assert.equal(client?.parentSpanId, front.spanId, tag);
    }
  });

  it('listeners stay the caller\'s functions: removeListener, once and listeners() work with them', async () => {
    await assertJoinsTrace('listeners', (req, res, down) => {
      const never = (): void => assert.fail('a removed listener ran');
      const onData = (): void => undefined;
      req.on('data', never);
      req.on('data', onData);
      req.removeListener('data', never);
      assert.deepEqual(req.listeners('data'), [onData]);
      const onEnd = (): void => void down('listeners').then(() => res.end());
      req.once('end', onEnd);
      assert.deepEqual(req.listeners('end').includes(onEnd), true);
    });
  });

  describe('client responses', () => {
    it("res.on('data') and res.on('end') after http.request run in the caller's context", async () => {
      await assertJoinsTrace('client-end', (req, res, down) => {
        req.resume();
        const callerSpan = activeContext().span;
        http.get(`${downUrl}/first`, (first) => {
          let chunks = 0;
          first.on('data', () => {
            chunks++;
            assert.equal(activeContext().span, callerSpan);
          });
          first.on('end', () => {
            assert.ok(chunks >= 2, `the response came in ${chunks} chunk(s)`);
            assert.equal(activeContext().span, callerSpan);
            // The handler's second call: a sibling of the first, not a child of its client span.
            void down('client-end').then(() => res.end());
          });
        });
      }, 2);
    });

    it('with one keep-alive socket shared in turn by two traces, each response runs in its own caller\'s context', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const tracer = tracing.getTracer('test');
      try {
        const seen = await Promise.all(
          ['first', 'second', 'third'].map(
            (name) =>
              new Promise<[string, boolean, boolean]>((resolve, reject) => {
                const caller = tracer.startSpan(name);
                runWithContext(activeContext().withSpan(caller), () => {
                  http
                    .get(`${downUrl}/${name}`, { agent }, (res) => {
                      const inResponse = activeContext().span === caller;
                      res.resume();
                      res.on('end', () => {
                        resolve([name, inResponse, activeContext().span === caller]);
                        caller.end();
                      });
                    })
                    .on('error', reject);
                });
              }),
          ),
        );
        assert.deepEqual(seen, [
          ['first', true, true],
          ['second', true, true],
          ['third', true, true],
        ]);
      } finally {
        agent.destroy();
      }
    });
  });
});
