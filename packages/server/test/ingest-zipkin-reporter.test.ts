/**
 * Interop: an unmodified Zipkin reporter (zipkin-js with its HTTP transport, JSON v2) sends to the
 * server's Zipkin route, and the spans are found with their shared client/server halves kept apart.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Annotation, BatchRecorder, ExplicitContext, Tracer, jsonEncoder } from 'zipkin';
import { HttpLogger } from 'zipkin-transport-http';
import { withEmbeddedApp } from './ingest-helpers.js';

describe('Zipkin reporter interop', () => {
  it('zipkin-js HttpLogger (JSON v2) delivers a client call and its server half', async () => {
    await withEmbeddedApp({}, async ({ app, store, url }) => {
      const errors: unknown[] = [];
      // One reporter per service, as two processes would have.
      const reporter = () =>
        new BatchRecorder({
          logger: new HttpLogger({ endpoint: `${url}/api/v2/spans`, jsonEncoder: jsonEncoder.JSON_V2, httpInterval: 50, log: { error: (...a: unknown[]) => errors.push(a) } }),
        });
      const client = new Tracer({ ctxImpl: new ExplicitContext(), recorder: reporter(), localServiceName: 'frontend' });
      const server = new Tracer({ ctxImpl: new ExplicitContext(), recorder: reporter(), localServiceName: 'shop-query' });

      const rootId = client.createRootId();
      client.letId(rootId, () => {
        client.recordServiceName('frontend');
        client.recordRpc('GET /shops/42');
        client.recordBinary('http.path', '/shops/42');
        client.recordAnnotation(new Annotation.ClientSend());
      });
      // The server joins the client's span (Zipkin's shared span model: same span id).
      server.letId(rootId, () => {
        server.recordServiceName('shop-query');
        server.recordRpc('GET /shops/:id');
        server.recordAnnotation(new Annotation.ServerRecv());
        server.recordBinary('linktrace.stage', 'receive');
        server.recordAnnotation(new Annotation.ServerSend());
      });
      client.letId(rootId, () => client.recordAnnotation(new Annotation.ClientRecv()));

      const traceId = rootId.traceId;
      let spans: Awaited<ReturnType<typeof store.getTrace>> = [];
      for (let attempt = 0; attempt < 100 && spans.length < 2; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        await app.linktrace.pipeline.idle();
        spans = await store.getTrace(traceId);
      }
      assert.deepEqual(errors, [], 'the reporter saw no transport error');
      assert.equal(spans.length, 2, 'client and server halves both stored');
      const clientHalf = spans.find((s) => s.kind === 'client');
      const serverHalf = spans.find((s) => s.kind === 'server');
      assert.ok(clientHalf && serverHalf);
      assert.equal(clientHalf.service, 'frontend');
      assert.equal(clientHalf.attributes['http.path'], '/shops/42');
      assert.equal(serverHalf.service, 'shop-query');
      assert.equal(serverHalf.spanId, clientHalf.spanId);
      assert.equal(serverHalf.attributes['linktrace.stage'], 'receive');
    });
  });
});
