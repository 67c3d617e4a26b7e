/**
 * The checker's JetStream messages, held unacknowledged until every trace they carried has been
 * checked and its findings stored. Acknowledging on receipt lost work: a checker killed before the
 * check re-opened its traces from the store once at restart, and spans a killed ingester had not
 * stored yet came later, so a fault went unfound or a half trace was checked. Held, the messages
 * are redelivered to the restarted checker instead. While held they are kept in progress
 * (`working`) so that JetStream does not redeliver them during the check delay; JetStream's max
 * ack pending bounds how many are held. A message held past `maxHoldMs` (its trace dropped by a
 * full checker, say) is refused (`nak`) to come back once more rather than kept for ever.
 */
import type { JsMsg } from 'nats';

interface Held {
  msg: JsMsg;
  /** Traces of the message not checked yet since it arrived. */
  remaining: Set<string>;
  arrival: number;
  sinceMs: number;
}

export interface CheckerAcksOptions {
  /** How often held messages are marked in progress: well inside the consumer's ack wait. */
  workingEveryMs: number;
  /** Held longer than this, a message is refused to be redelivered. */
  maxHoldMs: number;
  warn: (line: string) => void;
  clock?: () => number;
}

export class CheckerAcks {
  private readonly byTrace = new Map<string, Set<Held>>();
  private readonly held = new Set<Held>();
  private readonly timer: NodeJS.Timeout;
  private readonly clock: () => number;
  private acked = 0;
  private refused = 0;

  constructor(private readonly options: CheckerAcksOptions) {
    this.clock = options.clock ?? Date.now;
    this.timer = setInterval(() => this.keep(), options.workingEveryMs);
    this.timer.unref();
  }

  /** A message whose spans (arrival number `arrival`) the checker now holds. */
  hold(msg: JsMsg, traceIds: Iterable<string>, arrival: number): void {
    const h: Held = { msg, remaining: new Set(traceIds), arrival, sinceMs: this.clock() };
    if (h.remaining.size === 0) {
      this.ack(h);
      return;
    }
    this.held.add(h);
    for (const id of h.remaining) {
      let set = this.byTrace.get(id);
      if (set === undefined) this.byTrace.set(id, (set = new Set()));
      set.add(h);
    }
  }

  /** The checker checked these traces with every span handed in up to `upToArrival`, and stored the findings. */
  checked(traceIds: readonly string[], upToArrival: number): void {
    for (const id of traceIds) {
      const set = this.byTrace.get(id);
      if (set === undefined) continue;
      for (const h of set) {
        if (h.arrival > upToArrival) continue;
        set.delete(h);
        h.remaining.delete(id);
        if (h.remaining.size === 0) {
          this.held.delete(h);
          this.ack(h);
        }
      }
      if (set.size === 0) this.byTrace.delete(id);
    }
  }

  private ack(h: Held): void {
    h.msg.ack();
    this.acked++;
  }

  /** Marks held messages in progress; refuses those held too long. */
  private keep(): void {
    const now = this.clock();
    for (const h of this.held) {
      if (now - h.sinceMs > this.options.maxHoldMs) {
        this.forget(h);
        h.msg.nak();
        this.refused++;
        this.options.warn(`linktrace checker: message ${h.msg.seq} of ${h.msg.subject} held ${Math.round((now - h.sinceMs) / 1000)} s with ${h.remaining.size} traces not checked; refused, to be redelivered`);
      } else h.msg.working();
    }
  }

  private forget(h: Held): void {
    this.held.delete(h);
    for (const id of h.remaining) {
      const set = this.byTrace.get(id);
      set?.delete(h);
      if (set?.size === 0) this.byTrace.delete(id);
    }
  }

  status(): { heldMessages: number; acknowledged: number; refused: number } {
    return { heldMessages: this.held.size, acknowledged: this.acked, refused: this.refused };
  }

  /**
   * Stopping: the messages still held are refused, so that the next start gets them at once (not
   * after the ack wait) and checks their traces.
   */
  release(): void {
    clearInterval(this.timer);
    try {
      for (const h of this.held) h.msg.nak();
    } catch {
      // NATS is gone: JetStream redelivers them after the ack wait all the same.
    }
    this.held.clear();
    this.byTrace.clear();
  }
}
