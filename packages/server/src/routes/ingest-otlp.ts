/**
 * `POST /v1/traces`: OTLP/HTTP, protobuf or JSON, optionally gzip. Answers per the OTLP spec: 200 with
 * an ExportTraceServiceResponse in the request's encoding, `partial_success` when spans were rejected.
 */
import type { FastifyInstance } from 'fastify';
import { WIRE_FORMAT } from '../ingest/wire-format.js';
import { isProtobufRequest, receive, type ReceiverContext } from '../ingest/receive.js';
import { otlpJsonResponse, otlpProtoResponse, partialSuccessMessage } from '../ingest/otlp-response.js';

export function registerOtlpRoute(app: FastifyInstance, ctx: ReceiverContext): void {
  app.post('/v1/traces', async (request, reply) => {
    const proto = isProtobufRequest(request);
    const result = await receive(ctx, 'otlp', proto ? WIRE_FORMAT.otlpProto : WIRE_FORMAT.otlpJson, request);
    const message = result.rejected > 0 ? partialSuccessMessage(result.errors) : '';
    if (proto) return reply.code(200).type('application/x-protobuf').send(otlpProtoResponse(result.rejected, message));
    return reply.code(200).type('application/json').send(otlpJsonResponse(result.rejected, message));
  });
}
