/**
 * The pull loop the ingester and the checker share: fetch a batch from a durable consumer, decode
 * each message, hand the decoded ones to the role, and acknowledge them only once the role's work
 * for them is done (the ingester: spans durable in the store). A message that does not decode is
 * counted, parked on `linktrace.dead.<role>` with the reason in its headers, and acknowledged: it
 * never blocks the messages behind it. When the role's work fails (the store is down) the batch is
 * refused (`nak`) and redelivered after a pause; nothing is acknowledged that was not done.
 */
import type { Span } from '@linktrace/model';
import { headers as natsHeaders, type JsMsg } from 'nats';
import { deadSubject, HEADER, SPANS_STREAM } from './jetstream-names.js';
import { ensureConsumer, INGESTER_MAX_ACK_PENDING } from './jetstream-setup.js';
import type { Linked, NatsLink } from './nats-link.js';
import { PullInbox } from './pull-inbox.js';
import type { RoleMetrics } from './role-metrics.js';
import { decodeSpanMessage, reasonLabel } from './span-message.js';

export interface ConsumedItem {
  spans: Span[];
  arrivedUs: number | undefined;
  msg: JsMsg;
}

/** What the role did with a batch: items it could not take for good (the store refused them as malformed), with the reason. */
export interface HandledBatch {
  dead?: Map<ConsumedItem, string>;
  /** Items the role acknowledges itself, later (the checker: once their traces are checked). */
  held?: Set<ConsumedItem>;
}

export interface MessageConsumerOptions {
  role: 'ingester' | 'checker';
  link: NatsLink;
  durable: string;
  filterSubject: string;
  /** Messages per fetch. */
  batch: number;
  metrics: RoleMetrics;
  /** Resolves once the batch may be acknowledged; rejects to have it redelivered after a pause. */
  handle: (items: ConsumedItem[]) => Promise<HandledBatch>;
  warn: (line: string) => void;
  /** How long a fetch waits for messages. */
  expiresMs?: number;
}

const FIRST_PAUSE_MS = 500;
const MAX_PAUSE_MS = 10_000;

export class MessageConsumer {
  private stopped = false;
  private readonly running: Promise<void>;
  private lastError: string | undefined;
  private consumed = 0;
  private dead = 0;
  private signalStop!: () => void;
  /** Resolves when `stop` is called: waits (for NATS, for a pause) end early. */
  private readonly stopSignal = new Promise<undefined>((resolve) => {
    this.signalStop = () => resolve(undefined);
  });

  constructor(private readonly options: MessageConsumerOptions) {
    this.running = this.run();
  }

  status(): { durable: string; consumed: number; deadLetters: number; lastError?: string } {
    const s: { durable: string; consumed: number; deadLetters: number; lastError?: string } = { durable: this.options.durable, consumed: this.consumed, deadLetters: this.dead };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  /** The last failure, until a batch goes through again. */
  get error(): string | undefined {
    return this.lastError;
  }

  private async run(): Promise<void> {
    const { link } = this.options;
    let inbox: PullInbox | undefined;
    let pause = FIRST_PAUSE_MS;
    while (!this.stopped) {
      const linked = link.current ?? (await Promise.race([link.whenLinked(), this.stopSignal]));
      if (linked === undefined || this.stopped) break;
      try {
        if (inbox !== undefined && inbox.nc !== linked.nc) {
          inbox.close();
          inbox = undefined;
        }
        inbox ??= await this.open(linked);
        const msgs = await inbox.next(this.options.batch, this.options.expiresMs ?? 1000);
        if (msgs.length > 0) {
          await this.process(linked, msgs);
          await linked.nc.flush();
        }
        this.lastError = undefined;
        pause = FIRST_PAUSE_MS;
      } catch (error) {
        const message = (error as Error).message;
        if (this.lastError !== message) this.options.warn(`linktrace ${this.options.role}: ${this.options.durable}: ${message}; retrying`);
        this.lastError = message;
        inbox?.close();
        inbox = undefined;
        await this.pause(pause);
        pause = Math.min(pause * 2, MAX_PAUSE_MS);
      }
    }
    inbox?.close();
  }

  private async open(linked: Linked): Promise<PullInbox> {
    await ensureConsumer(linked.jsm, this.options.durable, this.options.filterSubject, INGESTER_MAX_ACK_PENDING);
    return new PullInbox(linked.nc, SPANS_STREAM, this.options.durable);
  }

  private async process(linked: Linked, msgs: JsMsg[]): Promise<void> {
    const { metrics, role } = this.options;
    const items: ConsumedItem[] = [];
    const undecodable: { msg: JsMsg; reason: string }[] = [];
    for (const msg of msgs) {
      if (msg.redelivered) metrics.redeliveredMessage(role);
      const d = decodeSpanMessage(msg.data, msg.headers);
      if (d.ok) items.push({ spans: d.spans, arrivedUs: d.arrivedUs, msg });
      else undecodable.push({ msg, reason: d.reason });
    }
    // Parked first: they need nothing of the store, and must not wait behind a failing one.
    for (const u of undecodable) await this.park(linked, u.msg, u.reason);
    if (items.length === 0) return;
    let handled: HandledBatch;
    try {
      handled = await this.options.handle(items);
    } catch (error) {
      // Redelivered after the pause; the acknowledged undecodable ones are not.
      for (const item of items) item.msg.nak(MAX_PAUSE_MS);
      throw error;
    }
    for (const item of items) {
      const reason = handled.dead?.get(item);
      if (reason !== undefined) await this.park(linked, item.msg, reason);
      else {
        if (handled.held?.has(item) !== true) item.msg.ack();
        this.consumed++;
      }
    }
    metrics.consumedMessages(role, items.length - (handled.dead?.size ?? 0));
  }

  /** Publishes the message to the dead-letter subject, then acknowledges it; a failed park leaves it to be redelivered. */
  private async park(linked: Linked, msg: JsMsg, reason: string): Promise<void> {
    const h = natsHeaders();
    if (msg.headers !== undefined) for (const [k, v] of msg.headers) for (const value of v) h.append(k, value);
    h.set(HEADER.deadReason, reason.replace(/[\r\n]/g, ' ').slice(0, 512));
    h.set(HEADER.deadSubject, msg.subject);
    h.set(HEADER.deadSequence, String(msg.seq));
    try {
      await linked.js.publish(deadSubject(this.options.role), msg.data, { headers: h });
    } catch (error) {
      msg.nak(MAX_PAUSE_MS);
      throw new Error(`cannot park an undecodable message (stream sequence ${msg.seq}) on ${deadSubject(this.options.role)}: ${(error as Error).message}`);
    }
    msg.ack();
    this.dead++;
    this.options.metrics.deadLetter(this.options.role, reasonLabel(reason));
    this.options.warn(`linktrace ${this.options.role}: parked message ${msg.seq} of ${msg.subject} on ${deadSubject(this.options.role)}: ${reason}`);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      void this.stopSignal.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Stops after the batch under way (its acknowledgements go out first). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.signalStop();
    await this.running;
  }
}
