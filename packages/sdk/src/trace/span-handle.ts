import type { Attributes, AttributeValue, StatusCode } from '@linktrace/model';
import type { SpanContext } from '../types.js';

/**
 * What user code holds: a recording span or a non-recording one (unsampled, or a remote parent).
 * It is also a SpanContext, so a span can be handed to anything that wants one without allocating.
 * Every method is safe to call at any time: after end, with wrong types, with garbage — such calls
 * are ignored and counted, never thrown.
 */
export interface SpanHandle extends SpanContext {
  isRecording(): boolean;
  /** A stable snapshot of the span's identity for storing or propagating. */
  spanContext(): SpanContext;
  setAttribute(key: string, value: AttributeValue | null | undefined): this;
  setAttributes(attributes: Attributes): this;
  addEvent(name: string, attributes?: Attributes, timeUs?: number): this;
  addLink(context: SpanContext, attributes?: Attributes): this;
  setStatus(code: StatusCode, message?: string): this;
  /** Adds an `exception` event (type, message, stacktrace); does not change the status. */
  recordException(error: unknown, timeUs?: number): this;
  updateName(name: string): this;
  end(endTimeUs?: number): void;
  /** Allocates the position index of the next call made while handling this span (1, 2, …). */
  nextChildIndex(): number;
}
