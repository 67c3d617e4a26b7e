/**
 * The load of the ingest benchmark: `concurrency` exporters POST the prepared bodies to
 * `/v1/traces` over keep-alive connections, each taking the next body as soon as its previous one
 * is answered. A 429 or 503 is retried after the server's `Retry-After` (as the OTLP/HTTP spec asks
 * of exporters); any other failure stops the run. Counters are public so that progress can be read
 * while it runs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RequestBody } from './ingest-batches.js';
import { httpRequest, keepAliveAgent, retryAfterSeconds, type HttpAnswer } from './ingest-http.js';

const CONTENT: Record<RequestBody['format'], Record<string, string>> = {
  protobuf: { 'content-type': 'application/x-protobuf' },
  'protobuf+gzip': { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
  json: { 'content-type': 'application/json' },
};

/** Spans the server refused in a 200 answer (OTLP `partial_success.rejected_spans`). */
export function rejectedSpans(answer: HttpAnswer, format: RequestBody['format']): number {
  const body = answer.body;
  if (body.length === 0) return 0;
  if (format === 'json') {
    const parsed = JSON.parse(body.toString('utf8')) as { partialSuccess?: { rejectedSpans?: number | string } };
    return Number(parsed.partialSuccess?.rejectedSpans ?? 0);
  }
  // ExportTraceServiceResponse { partial_success (1, LEN) { rejected_spans (1, varint) } }
  if (body[0] !== 0x0a) return 0;
  let pos = 1;
  while (body[pos]! & 0x80) pos++;
  pos++;
  if (body[pos] !== 0x08) return 0;
  pos++;
  let n = 0;
  let scale = 1;
  for (;;) {
    const b = body[pos++]!;
    n += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return n;
    scale *= 128;
  }
}

export class Sender {
  /** Spans in bodies handed out to exporters so far. */
  sentSpans = 0;
  acceptedSpans = 0;
  rejectedSpans = 0;
  requests = 0;
  /** 429 and 503 answers (each retried). */
  throttled = 0;
  unavailable = 0;
  /** `performance.now()` of the first request and of the last 2xx answer. */
  startedAt = 0;
  lastAnswerAt = 0;
  private next = 0;

  constructor(
    private readonly url: string,
    private readonly concurrency: number,
    /** Retries of one body before the run is abandoned: bounds every loop. */
    private readonly maxRetries = 600,
  ) {}

  async run(bodies: readonly RequestBody[]): Promise<void> {
    const agent = keepAliveAgent(this.concurrency);
    const target = new URL('/v1/traces', this.url);
    this.startedAt = performance.now();
    try {
      await Promise.all(Array.from({ length: this.concurrency }, () => this.exporter(bodies, agent, target)));
    } finally {
      agent.destroy();
    }
  }

  private async exporter(bodies: readonly RequestBody[], agent: ReturnType<typeof keepAliveAgent>, target: URL): Promise<void> {
    while (this.next < bodies.length) {
      const b = bodies[this.next++]!;
      this.sentSpans += b.spans;
      for (let attempt = 0; ; attempt++) {
        this.requests++;
        const answer = await httpRequest(agent, target, 'POST', CONTENT[b.format], b.body);
        if (answer.status === 200) {
          const rejected = rejectedSpans(answer, b.format);
          this.rejectedSpans += rejected;
          this.acceptedSpans += b.spans - rejected;
          this.lastAnswerAt = performance.now();
          break;
        }
        if ((answer.status === 429 || answer.status === 503) && attempt < this.maxRetries) {
          if (answer.status === 429) this.throttled++;
          else this.unavailable++;
          await sleep(retryAfterSeconds(answer.headers['retry-after'], 1) * 1000);
          continue;
        }
        throw new Error(`POST /v1/traces (${b.format}, ${b.spans} spans) answered ${answer.status}: ${answer.body.toString('utf8').slice(0, 300)}`);
      }
    }
  }
}
