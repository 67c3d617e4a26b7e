/**
 * `POST /api/v1/spans`: Linktrace's native JSON batch (`{ "format": "linktrace/1", "spans": [...] }`),
 * optionally gzip. Answers 200 `{ accepted, rejected, errors }`; 400 `invalid_spans` when every span
 * was rejected.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import { WIRE_FORMAT } from '../ingest/wire-format.js';
import { isProtobufRequest, receive, type ReceiverContext } from '../ingest/receive.js';
import { partialSuccessMessage } from '../ingest/otlp-response.js';

export function registerNativeRoute(app: FastifyInstance, ctx: ReceiverContext): void {
  app.post('/api/v1/spans', async (request, reply) => {
    if (isProtobufRequest(request)) {
      throw new ApiError('unsupported_media_type', 'the native route takes JSON (application/json); send protobuf to /v1/traces');
    }
    const result = await receive(ctx, 'native', WIRE_FORMAT.nativeJson, request);
    if (result.accepted === 0 && result.rejected > 0) {
      throw new ApiError('invalid_spans', `all ${result.rejected} spans were rejected: ${partialSuccessMessage(result.errors)}`);
    }
    return reply.code(200).send({ accepted: result.accepted, rejected: result.rejected, errors: result.errors });
  });
}
