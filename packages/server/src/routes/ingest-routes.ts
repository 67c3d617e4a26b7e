/**
 * The receivers, in their own encapsulated scope: there every accepted body (JSON or protobuf) is
 * read raw, as a Buffer capped at the request limit, because the write-ahead log keeps bodies as they
 * arrived and the receivers decode them themselves (once). Other routes keep Fastify's JSON parser.
 */
import type { FastifyInstance } from 'fastify';
import type { ReceiverContext } from '../ingest/receive.js';
import { registerOtlpRoute } from './ingest-otlp.js';
import { registerZipkinRoute } from './ingest-zipkin.js';
import { registerNativeRoute } from './ingest-native.js';

export const INGEST_CONTENT_TYPES = ['application/json', 'application/x-protobuf'];

export async function registerIngestRoutes(app: FastifyInstance, ctx: ReceiverContext): Promise<void> {
  await app.register((scope, _opts, done) => {
    // A full backlog refuses before the body is read or decoded.
    scope.addHook('onRequest', (_request, _reply, done) => {
      done(ctx.pipeline.refuseEarly());
    });
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(INGEST_CONTENT_TYPES, { parseAs: 'buffer', bodyLimit: ctx.limits.maxRequestBytes }, (_request, body, parsed) => {
      parsed(null, body);
    });
    registerOtlpRoute(scope, ctx);
    registerZipkinRoute(scope, ctx);
    registerNativeRoute(scope, ctx);
    done();
  });
}
