/**
 * Alerts as log lines, one per finding:
 * `linktrace alert rule=missing-write service="sync-worker" traceId=… spanId=… entity="shop:42@7" target="mysql:user_shop" message="…"`.
 */
import type { Finding } from '@linktrace/storage';
import type { AlertSink } from './alert-sink.js';

export function alertLine(f: Finding): string {
  let line = `linktrace alert rule=${f.rule} service=${JSON.stringify(f.service)} traceId=${f.traceId} spanId=${f.spanId}`;
  if (f.entity !== undefined) {
    const e = `${f.entity.type}:${f.entity.key}${f.entity.version === undefined ? '' : `@${f.entity.version}`}`;
    line += ` entity=${JSON.stringify(e)}`;
  }
  if (f.target !== undefined) line += ` target=${JSON.stringify(f.target)}`;
  // JSON quoting keeps a message with newlines on one line.
  return `${line} message=${JSON.stringify(f.message)}`;
}

export class LogSink implements AlertSink {
  readonly name = 'log';

  /** `write` gets each line without its newline; default: stderr. */
  constructor(private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}

  send(findings: readonly Finding[]): Promise<void> {
    for (const f of findings) this.write(alertLine(f));
    return Promise.resolve();
  }
}
