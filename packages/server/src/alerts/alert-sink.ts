/** Where findings are sent as alerts (webhook, Sentry, log). */
import type { Finding } from '@linktrace/storage';

export interface AlertSink {
  /** Names the sink in metrics and messages, e.g. `webhook:hooks.example.com`. */
  readonly name: string;
  /** Resolves once the findings are delivered; rejects when delivery failed for good (after its own retries). */
  send(findings: readonly Finding[]): Promise<void>;
}
