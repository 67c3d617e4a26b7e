/**
 * The remedy audit log: one JSON line per event (requested, dry run, refused, delivered, result,
 * expired, verified) in `<dataDir>/remedies/audit.jsonl`, append-only. Refusals (a wrong scope, a
 * forged result, a rate limit) are written too: they are what an operator looks for first.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface AuditEvent {
  atMs: number;
  event: string;
  [field: string]: unknown;
}

export class RemedyAudit {
  readonly file: string;
  private written = 0;

  constructor(
    dataDir: string,
    private readonly clock: () => number = Date.now,
  ) {
    const dir = join(dataDir, 'remedies');
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'audit.jsonl');
  }

  write(event: string, fields: Record<string, unknown>): void {
    const line: AuditEvent = { atMs: this.clock(), event, ...fields };
    appendFileSync(this.file, JSON.stringify(line) + '\n');
    this.written++;
  }

  get events(): number {
    return this.written;
  }
}
