import type { Context } from '../../context/context.js';
import { activeContext, contextStorage } from '../../context/context-manager.js';

/**
 * Code that waits for a message (`for await (const m of sub)`, `await consumer.next()`) resumes in
 * the context that was active when it started waiting, never in the one of the message that ended
 * the wait, and there is no callback to run in the message's span. So where the application asks
 * for a message, a fresh copy of its context (a slot) is entered into its frame, right after the
 * request left: the application's `await` carries the slot into the code after it. When the message
 * arrives, the slot takes the message's span and baggage, before that code runs. What the handling
 * code calls then joins the message's trace, before and after any further `await` in it.
 *
 * Contexts are immutable everywhere else; a slot is the one exception, and nothing but the waiting
 * frame (and what it starts) holds it. The frame keeps the last message's context until it asks
 * for the next one; `leaveSlot` gives it back the context it had before the first.
 */
export interface Slot {
  readonly context: Context;
  /** What the frame had before it asked (a loop's slots all go back to the context the loop started in). */
  readonly base: Context;
}

/** Enters a slot into the calling frame, a copy of `base` as it is now; call it right after the request for a message left. */
export function enterSlot(base: Context): Slot {
  const context = base.withSpan(base.span);
  contextStorage().enterWith(context);
  return { context, base };
}

/** The message arrived: the slot now carries its context (`undefined`: nothing traced arrived, the slot stays a copy of the base). */
export function fillSlot(slot: Slot, message: Context | undefined): void {
  if (message === undefined) return;
  const writable = slot.context as { span: Context['span']; baggage: Context['baggage'] };
  writable.span = message.span;
  writable.baggage = message.baggage;
}

/** The frame stopped asking (a `break` out of the loop): it gets back the context it had before. */
export function leaveSlot(base: Context): void {
  contextStorage().enterWith(base);
}

/** Per source of messages (a consumer, a channel), the slot of the last message it handed out. */
const lastSlot = new WeakMap<object, Slot>();

/**
 * For a method that resolves to one message (`consumer.next()`, `channel.get()`): a slot is entered in
 * the caller's frame and filled with the context `receive` gives for the value (`receive` may start
 * the message's span; it never makes the application's promise fail). Asking `source` again from the
 * slot it filled before starts from the same base: a loop of `next()` calls does not nest.
 */
export function awaitedMessage<T>(source: object, result: T, receive: (value: unknown) => Context | undefined): T {
  if (result === null || typeof result !== 'object' || typeof (result as { then?: unknown }).then !== 'function') return result;
  const active = activeContext();
  const previous = lastSlot.get(source);
  const slot = enterSlot(previous !== undefined && previous.context === active ? previous.base : active);
  lastSlot.set(source, slot);
  return (result as unknown as Promise<unknown>).then((value) => {
    try {
      fillSlot(slot, receive(value));
    } catch {
      // Instrumentation trouble stays here: the application gets its message.
    }
    return value;
  }) as unknown as T;
}
