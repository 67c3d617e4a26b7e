import type { Attributes, AttributeValue, StatusCode } from '@linktrace/model';
import { newSpanId, newTraceId } from '@linktrace/model';
import { childPosition } from './child-position.js';
import type { SpanContext } from '../types.js';
import type { SpanHandle } from './span-handle.js';

/**
 * An unsampled span: it records nothing and computes its identity only when someone asks for it
 * (a propagator injecting it into an outgoing call). Starting one costs one small object.
 */
export class NonRecordingSpan implements SpanHandle {
  readonly isRemote: boolean = false;
  traceFlags: number;
  private readonly parent: SpanHandle | undefined;
  private readonly index: number;
  private lazyTraceId: string | undefined;
  private lazySpanId: string | undefined;
  private lazyRpcid: string | undefined;
  private childCount = 0;

  /** `traceId` is passed when the sampler already generated one for this root. */
  constructor(parent: SpanHandle | undefined, index: number, traceId: string | undefined) {
    this.parent = parent;
    this.index = index;
    this.lazyTraceId = traceId;
    this.traceFlags = parent === undefined ? 0 : parent.traceFlags & ~1;
  }

  get traceId(): string {
    return (this.lazyTraceId ??= this.parent?.traceId || newTraceId());
  }

  get spanId(): string {
    return (this.lazySpanId ??= newSpanId());
  }

  get rpcid(): string {
    return (this.lazyRpcid ??= this.parent === undefined ? '0' : childPosition(this.parent.rpcid ?? '0', this.index));
  }

  get traceState(): string | undefined {
    return this.parent?.traceState;
  }

  get debug(): boolean | undefined {
    return this.parent?.debug;
  }

  isRecording(): boolean {
    return false;
  }

  spanContext(): SpanContext {
    return { traceId: this.traceId, spanId: this.spanId, traceFlags: this.traceFlags, traceState: this.traceState, rpcid: this.rpcid };
  }

  nextChildIndex(): number {
    return ++this.childCount;
  }

  setAttribute(_key: string, _value: AttributeValue | null | undefined): this {
    return this;
  }
  setAttributes(_attributes: Attributes): this {
    return this;
  }
  addEvent(_name: string, _attributes?: Attributes, _timeUs?: number): this {
    return this;
  }
  addLink(_context: SpanContext, _attributes?: Attributes): this {
    return this;
  }
  setStatus(_code: StatusCode, _message?: string): this {
    return this;
  }
  recordException(_error: unknown, _timeUs?: number): this {
    return this;
  }
  updateName(_name: string): this {
    return this;
  }
  end(_endTimeUs?: number): void {}
}

/**
 * The parent that arrived from another process. It is never recorded here; it only gives its
 * children their trace, parent id and position. A context with an empty `spanId` names a trace to
 * join as a root (X-Service-Transaction-ID).
 */
export class RemoteSpan extends NonRecordingSpan {
  override readonly isRemote = true;
  private readonly remote: SpanContext;

  constructor(remote: SpanContext) {
    super(undefined, 0, remote.traceId);
    this.remote = remote;
    this.traceFlags = remote.traceFlags;
  }

  override get spanId(): string {
    return this.remote.spanId;
  }
  override get rpcid(): string {
    return this.remote.rpcid ?? '0';
  }
  override get traceState(): string | undefined {
    return this.remote.traceState;
  }
  override get debug(): boolean | undefined {
    return this.remote.debug;
  }
  /** True when the remote side carried an explicit position (so a server span can take it over). */
  get hasRpcid(): boolean {
    return this.remote.rpcid !== undefined;
  }
  override spanContext(): SpanContext {
    return this.remote;
  }
}
