/**
 * Sentry alerts without the Sentry SDK: each finding becomes one event, sent as an envelope to the
 * DSN's project (`X-Sentry-Auth` with the public key). Events are grouped in Sentry by rule, service,
 * entity type and target (the fingerprint), so one broken hop is one issue however often it recurs.
 */
import { randomUUID } from 'node:crypto';
import type { Finding } from '@linktrace/storage';
import type { AlertSink } from './alert-sink.js';
import { postWithRetry, type PostOptions } from './http-post.js';
import { parseSentryDsn, type SentryDsn } from './sentry-dsn.js';

const CLIENT = 'linktrace/0.1.0';

export interface SentryOptions extends PostOptions {
  /** Sent as the events' `environment`. */
  environment?: string;
}

export function sentryEvent(f: Finding, eventId: string, environment: string | undefined): Record<string, unknown> {
  const tags: Record<string, string> = { rule: f.rule, service: f.service, trace_id: f.traceId };
  if (f.target !== undefined) tags.target = f.target;
  if (f.entity !== undefined) tags.entity_type = f.entity.type;
  const event: Record<string, unknown> = {
    event_id: eventId,
    timestamp: f.timeUs / 1e6,
    platform: 'node',
    level: 'error',
    logger: 'linktrace.checker',
    server_name: f.service,
    message: { formatted: f.message },
    tags,
    fingerprint: ['linktrace', f.rule, f.service, f.entity?.type ?? '', f.target ?? ''],
    contexts: { trace: { trace_id: f.traceId, span_id: f.spanId, op: f.rule } },
    extra: { spanId: f.spanId, entity: f.entity, target: f.target },
  };
  if (environment !== undefined) event.environment = environment;
  return event;
}

export class SentrySink implements AlertSink {
  readonly name: string;
  private readonly dsn: SentryDsn;
  private readonly headers: Record<string, string>;

  constructor(
    dsn: string,
    private readonly options: SentryOptions = {},
  ) {
    this.dsn = parseSentryDsn(dsn);
    this.name = `sentry:${this.dsn.projectId}`;
    this.headers = {
      'content-type': 'application/x-sentry-envelope',
      'x-sentry-auth': `Sentry sentry_version=7, sentry_key=${this.dsn.publicKey}, sentry_client=${CLIENT}`,
      'user-agent': CLIENT,
    };
  }

  /** One envelope per event: Sentry takes at most one event per envelope. */
  async send(findings: readonly Finding[]): Promise<void> {
    for (const f of findings) {
      const eventId = randomUUID().replace(/-/g, '');
      const header = JSON.stringify({ event_id: eventId, dsn: this.dsn.dsn, sent_at: new Date().toISOString() });
      const payload = JSON.stringify(sentryEvent(f, eventId, this.options.environment));
      const item = JSON.stringify({ type: 'event', length: Buffer.byteLength(payload), content_type: 'application/json' });
      await postWithRetry(this.dsn.envelopeUrl, `${header}\n${item}\n${payload}\n`, this.headers, this.options);
    }
  }
}
