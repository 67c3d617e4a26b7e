/**
 * Alert deduplication: a finding with the same rule, service, entity (type and key, any version)
 * and target as one alerted within the window is not alerted again. The window runs from the first
 * alert, so a hop that stays broken is alerted again once per window. Bounded: past `maxKeys`, the
 * oldest keys are forgotten first.
 */
import { OldestFirst } from '@linktrace/model';
import type { Finding } from '@linktrace/storage';

export function dedupeKey(f: Finding): string {
  const e = f.entity === undefined ? '' : `${f.entity.type}\u0000${f.entity.key}`;
  return `${f.rule}\u0000${f.service}\u0000${e}\u0000${f.target ?? ''}`;
}

export class AlertDedupe {
  /** Key → when its window ends (ms); insertion order is window order. */
  private readonly until = new Map<string, number>();
  private readonly oldest = new OldestFirst(this.until);

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** True when `f` should be alerted (and starts its window); false for a duplicate. */
  admit(f: Finding, nowMs: number): boolean {
    this.expire(nowMs);
    const key = dedupeKey(f);
    if (this.until.has(key)) return false;
    if (this.until.size >= this.maxKeys) this.oldest.take();
    this.until.set(key, nowMs + this.windowMs);
    return true;
  }

  private expire(nowMs: number): void {
    for (const [key, end] of this.until) {
      if (end > nowMs) break;
      this.until.delete(key);
    }
  }
}
