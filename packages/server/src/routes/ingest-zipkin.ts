/**
 * `POST /api/v2/spans`: a Zipkin v2 JSON span list, optionally gzip; 202 with no body, as Zipkin
 * answers. Some spans rejected (malformed, or over an attribute limit): still 202 (the rest are
 * kept), the refusals counted on /metrics by reason and named in the server log (rate-limited); all
 * of them: 400 (`invalid_spans`, or the limit's code).
 */
import type { FastifyInstance } from 'fastify';
import { encodeZipkinJson, type Span } from '@linktrace/model';
import { ApiError } from '../errors.js';
import { WIRE_FORMAT } from '../ingest/wire-format.js';
import { isProtobufRequest, receive, type ReceiverContext } from '../ingest/receive.js';
import { partialSuccessMessage } from '../ingest/otlp-response.js';

/** A span over an attribute limit is left out, not the whole request (see span-limits.ts). */
const ZIPKIN_PER_SPAN = { encode: (spans: readonly Span[]) => Buffer.from(JSON.stringify(encodeZipkinJson(spans))) };

export function registerZipkinRoute(app: FastifyInstance, ctx: ReceiverContext): void {
  app.post('/api/v2/spans', async (request, reply) => {
    if (isProtobufRequest(request)) {
      throw new ApiError('unsupported_media_type', 'Zipkin proto3 is not accepted here; send Zipkin v2 JSON (application/json)');
    }
    const result = await receive(ctx, 'zipkin', WIRE_FORMAT.zipkinJson, request, ZIPKIN_PER_SPAN);
    if (result.accepted === 0 && result.rejected > 0) {
      throw new ApiError('invalid_spans', `all ${result.rejected} spans were rejected: ${partialSuccessMessage(result.errors)}`);
    }
    // A 202 cannot say that some spans were refused: the log names them (counted on /metrics too).
    ctx.refusals.report('zipkin', result.rejected, result.rejectedBy, result.errors);
    return reply.code(202).send();
  });
}
