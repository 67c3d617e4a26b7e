/** What the split roles count on /metrics, beside serve's metrics (same registry, so one scrape has both). */
import { Counter, type Registry } from 'prom-client';

export class RoleMetrics {
  private readonly published: Counter;
  private readonly publishFailed: Counter<'reason'>;
  private readonly consumed: Counter<'role'>;
  private readonly redelivered: Counter<'role'>;
  private readonly dead: Counter<'role' | 'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.published = new Counter({ name: 'linktrace_nats_published_messages_total', help: 'Messages the collector published and JetStream acknowledged.', registers });
    this.publishFailed = new Counter({
      name: 'linktrace_nats_publish_failures_total',
      help: 'Publishes JetStream did not acknowledge, by reason (stream_full: answered 429; unavailable: answered 503).',
      labelNames: ['reason'],
      registers,
    });
    this.consumed = new Counter({ name: 'linktrace_nats_consumed_messages_total', help: 'Messages pulled from JetStream and acknowledged, by role.', labelNames: ['role'], registers });
    this.redelivered = new Counter({
      name: 'linktrace_nats_redelivered_messages_total',
      help: 'Messages JetStream delivered more than once (not acknowledged in time, or refused while the store failed), by role.',
      labelNames: ['role'],
      registers,
    });
    this.dead = new Counter({
      name: 'linktrace_nats_dead_letters_total',
      help: 'Messages that did not decode (or that the store refused as malformed), parked on linktrace.dead.<role> and acknowledged, by role and reason.',
      labelNames: ['role', 'reason'],
      registers,
    });
    for (const reason of ['stream_full', 'unavailable']) this.publishFailed.labels(reason).inc(0);
  }

  publishedMessages(n: number): void {
    this.published.inc(n);
  }

  publishFailure(reason: 'stream_full' | 'unavailable'): void {
    this.publishFailed.labels(reason).inc();
  }

  consumedMessages(role: string, n: number): void {
    this.consumed.labels(role).inc(n);
  }

  redeliveredMessage(role: string): void {
    this.redelivered.labels(role).inc();
  }

  deadLetter(role: string, reason: string): void {
    this.dead.labels(role, reason).inc();
  }
}
