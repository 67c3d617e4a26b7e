import type { InstrumentationScope } from '@linktrace/model';
import type { Resource, Sampler, SpanProcessor } from '../types.js';
import type { SdkCounters } from './counters.js';
import type { Guard } from './guard.js';
import type { SpanLimits } from './limits.js';
import type { Redactor } from './redaction.js';

/** Everything a span needs from its provider, resolved once at configuration time and shared. */
export interface TracerState {
  readonly resource: Resource;
  readonly scope: InstrumentationScope | undefined;
  readonly limits: SpanLimits;
  /** `limits.attributeCountLimit * 2`: the flat key/value list's bound, precomputed for the hot path. */
  readonly attributeListLimit: number;
  /** `limits.attributeValueLengthLimit`, read on every string attribute. */
  readonly valueLengthLimit: number;
  readonly redactor: Redactor;
  readonly counters: SdkCounters;
  /** Catches and reports what the sampler and the processor throw. */
  readonly guard: Guard;
  readonly sampler: Sampler;
  /** A single processor (a fan-out processor when several are configured). */
  readonly processor: SpanProcessor;
  readonly startRecords: boolean;
  /** Set by shutdown: spans started afterwards are not recorded. */
  shutDown: boolean;
}
