/**
 * Pull batches from a durable consumer through one subscription that lives as long as the consumer
 * loop. The client's `fetch` subscribed a new inbox per batch and dropped it on a client-side timer
 * (1.05 × expires): on a busy event loop, messages JetStream delivered just before the request
 * expired were read after that timer, thrown away unacknowledged, and came back only after the ack
 * wait (in bench:scale two thirds of the processed messages were such redeliveries). Here a message
 * delivered late for one request lands in the same inbox and goes into the next batch.
 */
import { createInbox, nanos, type JsMsg, type Msg, type NatsConnection, type Subscription } from 'nats';
// The client makes its JetStream messages with this; it is not re-exported from the package root.
import { toJsMsg } from 'nats/lib/jetstream/jsmsg.js';

/** Past the request's expiry with no word from JetStream: the request is taken as lost. */
const SILENCE_MARGIN_MS = 5000;
const MAX_SILENCES = 3;

export class PullInbox {
  private readonly inbox: string;
  private readonly sub: Subscription;
  private readonly queue: JsMsg[] = [];
  /** Called when a message or a request's end arrives (a pull waits for either). */
  private wake: (() => void) | undefined;
  private ended = 0;
  private failure: string | undefined;
  private silences = 0;

  constructor(
    readonly nc: NatsConnection,
    private readonly stream: string,
    private readonly durable: string,
  ) {
    this.inbox = createInbox();
    this.sub = nc.subscribe(this.inbox, { callback: (err, msg) => this.take(err, msg) });
  }

  private take(err: Error | null, msg: Msg): void {
    if (err !== null) this.failure = err.message;
    else if (msg.subject !== this.inbox) this.queue.push(toJsMsg(msg));
    else {
      // A status from JetStream on the inbox itself: 100 is a heartbeat; 404/408 end a request
      // (nothing there, expired); 409 ends it for a reason worth saying (consumer deleted, leader changed).
      const code = msg.headers?.code ?? 0;
      if (code === 100) return;
      this.ended++;
      if (code === 409 && /deleted/i.test(msg.headers?.description ?? '')) this.failure = `consumer ${this.durable}: ${msg.headers?.description ?? ''}`;
    }
    this.wake?.();
  }

  /**
   * Up to `batch` messages: those already here, else what one pull request (expiring after
   * `expiresMs`) brings until it is full or ends. A stopping loop waits for the request to end too:
   * left waiting on the server, it would take messages (those refused at stop, say) for an inbox
   * no one reads any more.
   */
  async next(batch: number, expiresMs: number): Promise<JsMsg[]> {
    if (this.failure !== undefined) throw new Error(this.failure);
    if (this.queue.length < batch) {
      const endedBefore = this.ended;
      this.nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${this.stream}.${this.durable}`, JSON.stringify({ batch: batch - this.queue.length, expires: nanos(expiresMs) }), { reply: this.inbox });
      const deadline = Date.now() + expiresMs + SILENCE_MARGIN_MS;
      let silent = false;
      while (this.queue.length < batch && this.ended === endedBefore && this.failure === undefined) {
        const wait = deadline - Date.now();
        if (wait <= 0) {
          silent = true;
          break;
        }
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          timer = setTimeout(resolve, wait);
        });
        clearTimeout(timer);
        this.wake = undefined;
      }
      if (this.failure !== undefined) throw new Error(this.failure);
      // No status at all, repeatedly: the consumer is gone (a pull for a missing one gets no answer).
      this.silences = silent && this.queue.length === 0 ? this.silences + 1 : 0;
      if (this.silences >= MAX_SILENCES) throw new Error(`no answer from JetStream to ${MAX_SILENCES} pulls from ${this.durable}`);
    }
    return this.queue.splice(0, batch);
  }

  /** Messages received and not taken: refused, so that they come back at once rather than after the ack wait. */
  close(): void {
    this.sub.unsubscribe();
    for (const m of this.queue.splice(0)) m.nak();
  }
}
