/**
 * Every remedy the server was asked for, and where each stands: queued for a live instance, claimed,
 * run, verified. The book is the idempotency guard (one finding and action: one open remedy; a second
 * request answers with it), expires what no instance claims and fails what a claimed handler never
 * answered. It keeps its records in `<dataDir>/remedies/remedies.jsonl` (one snapshot a change, the
 * last one of an id wins) so a restart forgets nothing, and writes every event to the audit log.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RemedyAction, RemedyDelivery } from '@linktrace/model';
import type { RemedyOptions } from './remedy-options.js';
import type { RemedyAudit } from './remedy-audit.js';

export const REMEDY_STATES = ['pending', 'delivered', 'succeeded', 'verified', 'failed', 'expired', 'superseded'] as const;
export type RemedyState = (typeof REMEDY_STATES)[number];

/** States after which a new request for the same finding and action starts a new attempt. */
const RETRYABLE: ReadonlySet<RemedyState> = new Set(['failed', 'expired']);
const FINISHED: ReadonlySet<RemedyState> = new Set(['verified', 'failed', 'expired', 'superseded']);

export interface RemedyRecord {
  delivery: RemedyDelivery;
  state: RemedyState;
  attempt: number;
  createdAtMs: number;
  updatedAtMs: number;
  /** Who asked: the credential's scope and the client address. */
  requestedBy: string;
  /** `service@instance` that claimed it. */
  instance?: string;
  /** ms since the epoch when a claimed remedy fails for want of a result. */
  leaseUntilMs?: number;
  /** The trace the remedy ran as (linked to the broken one). */
  remedyTraceId?: string;
  /** Why it failed, expired or was skipped; what verification found. */
  reason?: string;
}

/** A handler an instance says it has (sent with each claim). */
export interface HandlerSpec {
  stage: string;
  /** Undefined: every operation of the stage. */
  operation?: string;
  actions: RemedyAction[];
}

interface LiveInstance {
  seenAtMs: number;
  handlers: HandlerSpec[];
}

export type ResultStatus = 'succeeded' | 'failed' | 'superseded';

export class RemedyError extends Error {
  constructor(
    readonly kind: 'not_found' | 'conflict' | 'full',
    message: string,
  ) {
    super(message);
    this.name = 'RemedyError';
  }
}

export function handles(spec: HandlerSpec, d: RemedyDelivery): boolean {
  return spec.stage === d.stage && (spec.operation === undefined || spec.operation === d.operation) && spec.actions.includes(d.action);
}

export class RemedyBook {
  private readonly records = new Map<string, RemedyRecord>();
  /** finding id + action → the latest attempt's remedy id. */
  private readonly latest = new Map<string, string>();
  private readonly live = new Map<string, Map<string, LiveInstance>>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly succeededListeners = new Set<(id: string) => void>();
  private readonly file: string;

  constructor(
    dataDir: string,
    private readonly options: RemedyOptions,
    private readonly audit: RemedyAudit,
    private readonly clock: () => number = Date.now,
  ) {
    const dir = join(dataDir, 'remedies');
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'remedies.jsonl');
    this.load();
  }

  private load(): void {
    if (!existsSync(this.file)) return;
    let lines = 0;
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (line === '') continue;
      lines++;
      try {
        const r = JSON.parse(line) as RemedyRecord;
        this.records.set(r.delivery.id, r);
        this.latest.set(key(r.delivery.findingId, r.delivery.action), r.delivery.id);
      } catch {
        // A line torn by a crash mid-append: the record before it stands.
      }
    }
    // Compact: one line per remedy.
    if (lines > this.records.size * 2 + 100) writeFileSync(this.file, [...this.records.values()].map((r) => JSON.stringify(r) + '\n').join(''));
  }

  private save(r: RemedyRecord): void {
    r.updatedAtMs = this.clock();
    appendFileSync(this.file, JSON.stringify(r) + '\n');
  }

  get(id: string): RemedyRecord | undefined {
    return this.records.get(id);
  }

  /** The latest remedy of a finding (any action), for the finding's view. */
  ofFinding(findingId: string): RemedyRecord | undefined {
    let found: RemedyRecord | undefined;
    for (const action of ['replay', 'undo'] as const) {
      const id = this.latest.get(key(findingId, action));
      const r = id === undefined ? undefined : this.records.get(id);
      if (r !== undefined && (found === undefined || r.createdAtMs > found.createdAtMs)) found = r;
    }
    return found;
  }

  list(filter: { findingId?: string; state?: RemedyState; service?: string; limit?: number } = {}): RemedyRecord[] {
    const out: RemedyRecord[] = [];
    for (const r of this.records.values()) {
      if (filter.findingId !== undefined && r.delivery.findingId !== filter.findingId) continue;
      if (filter.state !== undefined && r.state !== filter.state) continue;
      if (filter.service !== undefined && r.delivery.service !== filter.service) continue;
      out.push(r);
    }
    out.sort((a, b) => b.createdAtMs - a.createdAtMs);
    return out.slice(0, filter.limit ?? 100);
  }

  private openCount(): number {
    let n = 0;
    for (const r of this.records.values()) if (!FINISHED.has(r.state)) n++;
    return n;
  }

  /** The remedy a new request for this finding and action would answer with (open or done), if any. */
  existing(findingId: string, action: RemedyAction): RemedyRecord | undefined {
    const id = this.latest.get(key(findingId, action));
    const r = id === undefined ? undefined : this.records.get(id);
    return r !== undefined && !RETRYABLE.has(r.state) ? r : undefined;
  }

  /** A repeated request (a second click): the open or done remedy it answers with, audited; undefined when there is none. */
  repeat(findingId: string, action: RemedyAction, requestedBy: string): RemedyRecord | undefined {
    const previous = this.existing(findingId, action);
    if (previous !== undefined) this.audit.write('request-repeated', { remedyId: previous.delivery.id, findingId, by: requestedBy, state: previous.state });
    return previous;
  }

  /**
   * Queues a remedy, or answers with the one already open or done for this finding and action (a
   * second click, a retried request): `created` says which.
   */
  request(delivery: Omit<RemedyDelivery, 'id' | 'expiresAtMs'>, requestedBy: string): { record: RemedyRecord; created: boolean } {
    const k = key(delivery.findingId, delivery.action);
    const repeated = this.repeat(delivery.findingId, delivery.action, requestedBy);
    if (repeated !== undefined) return { record: repeated, created: false };
    const previousId = this.latest.get(k);
    const previous = previousId === undefined ? undefined : this.records.get(previousId);
    if (this.openCount() >= this.options.maxOpen) {
      throw new RemedyError('full', `${this.options.maxOpen} remedies are open; wait for some to finish or expire`);
    }
    const attempt = (previous?.attempt ?? 0) + 1;
    const now = this.clock();
    const record: RemedyRecord = {
      delivery: { ...delivery, id: `${delivery.findingId}.${delivery.action}.${attempt}`, expiresAtMs: now + this.options.ttlMs },
      state: 'pending',
      attempt,
      createdAtMs: now,
      updatedAtMs: now,
      requestedBy,
    };
    this.records.set(record.delivery.id, record);
    this.latest.set(k, record.delivery.id);
    this.save(record);
    this.audit.write('requested', { remedyId: record.delivery.id, findingId: delivery.findingId, action: delivery.action, service: delivery.service, by: requestedBy });
    this.wake(delivery.service);
    return { record, created: true };
  }

  /** Live instances of a service (asked for work within the live window) that have a handler for `d`. */
  liveFor(d: Pick<RemedyDelivery, 'service' | 'stage' | 'operation' | 'action'>): string[] {
    const now = this.clock();
    const out: string[] = [];
    for (const [instance, l] of this.live.get(d.service) ?? []) {
      if (now - l.seenAtMs <= this.options.liveWindowMs && l.handlers.some((h) => handles(h, d as RemedyDelivery))) out.push(instance);
    }
    return out;
  }

  /** An instance asks for work: the oldest pending remedy it can run, now claimed by it, or undefined. */
  claim(service: string, instance: string, handlers: HandlerSpec[]): RemedyRecord | undefined {
    const now = this.clock();
    let instances = this.live.get(service);
    if (instances === undefined) this.live.set(service, (instances = new Map()));
    instances.set(instance, { seenAtMs: now, handlers });
    let oldest: RemedyRecord | undefined;
    for (const r of this.records.values()) {
      if (r.state !== 'pending' || r.delivery.service !== service || r.delivery.expiresAtMs <= now) continue;
      if (!handlers.some((h) => handles(h, r.delivery))) continue;
      if (oldest === undefined || r.createdAtMs < oldest.createdAtMs) oldest = r;
    }
    if (oldest === undefined) return undefined;
    oldest.state = 'delivered';
    oldest.instance = `${service}@${instance}`;
    oldest.leaseUntilMs = now + this.options.leaseMs;
    this.save(oldest);
    this.audit.write('delivered', { remedyId: oldest.delivery.id, instance: oldest.instance });
    return oldest;
  }

  /** Resolves when a remedy for `service` is queued, or after `ms` (a claim's long poll). */
  waitForWork(service: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(service);
      if (set === undefined) this.waiters.set(service, (set = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        set.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done);
      set.add(done);
    });
  }

  private wake(service: string): void {
    for (const w of [...(this.waiters.get(service) ?? [])]) w();
  }

  /** The instance that claimed `id` reports how it went. A repeat of the same report is answered again; a different one is a conflict. */
  complete(id: string, instance: string, status: ResultStatus, details: { remedyTraceId?: string; reason?: string }): RemedyRecord {
    const r = this.records.get(id);
    if (r === undefined) throw new RemedyError('not_found', `no remedy ${id}`);
    const claimant = r.instance;
    if (r.state !== 'delivered') {
      const same = claimant === instance && (r.state === status || (status === 'succeeded' && r.state === 'verified'));
      if (same) return r;
      throw new RemedyError('conflict', `remedy ${id} is ${r.state}; a result is taken only while it is delivered`);
    }
    if (claimant !== instance) throw new RemedyError('conflict', `remedy ${id} was delivered to ${claimant ?? 'nobody'}, not ${instance}`);
    r.state = status;
    r.remedyTraceId = details.remedyTraceId;
    r.reason = details.reason;
    r.leaseUntilMs = undefined;
    this.save(r);
    this.audit.write(status, { remedyId: id, instance, remedyTraceId: details.remedyTraceId, reason: details.reason });
    if (status === 'succeeded') for (const l of this.succeededListeners) l(id);
    return r;
  }

  /** Called with the id of each remedy whose instance reports success (the re-check starts then, not at its next round). */
  onSucceeded(listener: (id: string) => void): void {
    this.succeededListeners.add(listener);
  }

  /** Expires what no instance claimed within the TTL and fails what a claimant never answered. */
  tick(): void {
    const now = this.clock();
    for (const r of this.records.values()) {
      if (r.state === 'pending' && r.delivery.expiresAtMs <= now) {
        const d = r.delivery;
        r.state = 'expired';
        r.reason = `no live instance of ${d.service} with a ${d.action} handler for stage ${d.stage} (${d.operation}) claimed it in time`;
        this.save(r);
        this.audit.write('expired', { remedyId: d.id, reason: r.reason });
      } else if (r.state === 'delivered' && r.leaseUntilMs !== undefined && r.leaseUntilMs <= now) {
        r.state = 'failed';
        r.reason = `${r.instance ?? 'the instance'} gave no result within ${Math.round(this.options.leaseMs / 1000)} s (the handler hung or the instance stopped); not retried automatically`;
        r.leaseUntilMs = undefined;
        this.save(r);
        this.audit.write('failed', { remedyId: r.delivery.id, reason: r.reason });
      }
    }
  }

  /** Succeeded remedies waiting for the re-check of their trace. */
  awaitingVerification(): RemedyRecord[] {
    return [...this.records.values()].filter((r) => r.state === 'succeeded');
  }

  /** The re-check's verdict on a succeeded remedy. */
  verdict(id: string, ok: boolean, reason: string): void {
    const r = this.records.get(id);
    if (r === undefined || r.state !== 'succeeded') return;
    r.state = ok ? 'verified' : 'failed';
    r.reason = reason;
    this.save(r);
    this.audit.write(ok ? 'verified' : 'verification-failed', { remedyId: id, reason });
  }
}

function key(findingId: string, action: RemedyAction): string {
  return `${findingId} ${action}`;
}
