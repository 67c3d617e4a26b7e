/**
 * Webhook alerts: each batch is one JSON POST `{ "source": "linktrace", "findings": [ ... ] }` (the
 * findings as `GET /api/v1/findings` returns them), retried with backoff.
 */
import type { Finding } from '@linktrace/storage';
import { ConfigError } from '../config.js';
import type { AlertSink } from './alert-sink.js';
import { postWithRetry, type PostOptions } from './http-post.js';

const HEADERS = { 'content-type': 'application/json', 'user-agent': 'linktrace-alerts/0.1' };

/** Throws ConfigError unless `url` is an absolute http(s) URL. */
export function checkWebhookUrl(url: string, what = '--alert-webhook'): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${what}: "${url}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`${what}: "${url}" must be an http or https URL`);
  return parsed;
}

export class WebhookSink implements AlertSink {
  readonly name: string;

  constructor(
    private readonly url: string,
    private readonly post: PostOptions = {},
  ) {
    this.name = `webhook:${checkWebhookUrl(url).host}`;
  }

  send(findings: readonly Finding[]): Promise<void> {
    return postWithRetry(this.url, JSON.stringify({ source: 'linktrace', findings }), HEADERS, this.post);
  }
}
