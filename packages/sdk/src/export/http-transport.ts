import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { runWithContext } from '../context/context-manager.js';
import { SUPPRESSED_ROOT } from '../context/suppress.js';
import type { ExportResult } from '../types.js';
import { parseRetryAfter } from './retry-after.js';

const gzipAsync = promisify(gzipCallback);

export interface HttpTransportOptions {
  /** `http:` or `https:` URL to POST to. */
  url: string;
  /** Extra request headers (e.g. authorization). */
  headers?: Readonly<Record<string, string>>;
  /** Compress request bodies with gzip (on the libuv thread pool, not the main thread). Default false. */
  gzip?: boolean;
  /** Whole-request deadline, connect to last response byte. Default 10 000 ms. */
  timeoutMs?: number;
  /** Response bytes kept for the caller (e.g. an OTLP partial-success body). Default 65 536. */
  maxResponseBytes?: number;
}

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** At most `maxResponseBytes` of the response body. */
  body: Buffer;
}

export interface HttpOutcome {
  result: ExportResult;
  /** Present whenever the server answered, whatever the status. */
  reply?: HttpReply;
}

/** OTLP/HTTP's list of statuses worth retrying; every other non-2xx answer is final. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/**
 * POSTs export payloads over one keep-alive agent. Never throws and never rejects: every outcome,
 * network errors included, is an ExportResult. A request in flight holds the process open until it
 * ends or times out; idle pooled sockets do not (Node's agent unrefs them), so the transport never
 * keeps a finished process alive.
 */
export class HttpTransport {
  private readonly url: URL;
  private readonly client: typeof http | typeof https;
  private readonly agent: http.Agent;
  private readonly baseHeaders: http.OutgoingHttpHeaders;
  private readonly gzip: boolean;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(options: HttpTransportOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`export URL must be http: or https:, got ${url.protocol}`);
    }
    this.url = url;
    this.client = url.protocol === 'https:' ? https : http;
    this.agent = new this.client.Agent({ keepAlive: true, maxSockets: 4 });
    this.gzip = options.gzip ?? false;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    if (!(this.timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${String(options.timeoutMs)}`);
    this.maxResponseBytes = options.maxResponseBytes ?? 65_536;
    this.baseHeaders = { 'user-agent': 'linktrace-sdk-node', ...lowerCaseKeys(options.headers ?? {}) };
    if (this.gzip) this.baseHeaders['content-encoding'] = 'gzip';
  }

  get target(): string {
    return this.url.href;
  }

  async send(payload: Uint8Array | string, contentType: string): Promise<HttpOutcome> {
    let body: Uint8Array;
    try {
      const raw = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
      body = this.gzip ? await gzipAsync(raw) : raw;
    } catch (error) {
      return { result: { code: 'failed', error: toError(error) } };
    }
    // Sending spans must not create spans: instrumentations skip work in a suppressed context.
    return runWithContext(SUPPRESSED_ROOT, () => this.post(body, contentType));
  }

  /** Closes pooled sockets. Requests still in flight finish or time out on their own. */
  shutdown(): void {
    this.agent.destroy();
  }

  private post(body: Uint8Array, contentType: string): Promise<HttpOutcome> {
    return new Promise<HttpOutcome>((resolve) => {
      let done = false;
      const finish = (outcome: HttpOutcome): void => {
        if (done) return;
        done = true;
        clearTimeout(deadline);
        resolve(outcome);
      };
      const headers = { ...this.baseHeaders, 'content-type': contentType, 'content-length': body.byteLength };
      const req = this.client.request(this.url, { method: 'POST', agent: this.agent, headers });
      const deadline = setTimeout(() => {
        const error = new Error(`no answer from ${this.url.href} within ${this.timeoutMs} ms`);
        req.destroy(error);
        // Settle here too: a response cut off mid-body does not always emit 'error'.
        finish({ result: { code: 'retryable', error } });
      }, this.timeoutMs);
      // The request itself holds the process open while it is in flight; the deadline need not.
      deadline.unref();
      req.on('error', (error) => {
        finish({ result: { code: 'retryable', error: networkError(error, this.url) } });
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          // Read everything so the socket can go back to the pool, keep only the head.
          if (kept < this.maxResponseBytes) {
            const part = chunk.subarray(0, this.maxResponseBytes - kept);
            chunks.push(part);
            kept += part.length;
          }
        });
        res.on('error', (error) => {
          finish({ result: { code: 'retryable', error: networkError(error, this.url) } });
        });
        res.on('close', () => {
          if (!res.complete) finish({ result: { code: 'retryable', error: new Error(`${this.url.href} closed the connection mid-answer`) } });
        });
        res.on('end', () => {
          const reply: HttpReply = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
          finish({ result: classify(reply), reply });
        });
      });
      req.end(body);
    });
  }
}

/** Maps an HTTP answer to an export result (OTLP/HTTP rules, also right for Zipkin). */
export function classify(reply: HttpReply): ExportResult {
  const { status } = reply;
  if (status >= 200 && status < 300) return { code: 'success' };
  const error = new Error(`HTTP ${status}${describeBody(reply.body)}`);
  if (RETRYABLE_STATUS.has(status)) {
    const retryAfterMs = parseRetryAfter(reply.headers['retry-after']);
    return retryAfterMs === undefined ? { code: 'retryable', error } : { code: 'retryable', error, retryAfterMs };
  }
  return { code: 'failed', error };
}

function describeBody(body: Buffer): string {
  if (body.length === 0) return '';
  const text = body.subarray(0, 200).toString('utf8').replace(/\s+/g, ' ').trim();
  // Protobuf error bodies are binary: not worth printing.
  return /^[\x20-\x7e]*$/.test(text) && text !== '' ? `: ${text}` : '';
}

function networkError(error: Error, url: URL): Error {
  const code = (error as NodeJS.ErrnoException).code;
  return new Error(`cannot reach ${url.href}: ${code !== undefined ? `${code} ` : ''}${error.message}`, { cause: error });
}

function lowerCaseKeys(headers: Readonly<Record<string, string>>): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [key, value] of Object.entries(headers)) out[key.toLowerCase()] = value;
  return out;
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
