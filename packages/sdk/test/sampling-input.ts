import type { Baggage, BaggageEntry, SamplingInput, SpanContext } from '../src/types.js';

/** A SamplingInput like the tracer's: the trace id is produced on first read, and reads are counted. */
export class TestInput implements SamplingInput {
  parent: SpanContext | undefined = undefined;
  name = 'op';
  kind: SamplingInput['kind'] = 'internal';
  attributes = undefined;
  baggage: Baggage | undefined = undefined;
  traceIdReads = 0;
  private id: string;

  constructor(traceId = '4bf92f3577b34da6a3ce929d0e0e4736') {
    this.id = traceId;
  }

  get traceId(): string {
    this.traceIdReads++;
    return this.id;
  }

  set traceId(id: string) {
    this.id = id;
  }
}

export function parent(sampled: boolean, isRemote: boolean, debug?: boolean): SpanContext {
  return { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: sampled ? 1 : 0, isRemote, debug };
}

export function baggage(entries: Record<string, string>): Baggage {
  return new Map<string, BaggageEntry>(Object.entries(entries).map(([k, value]) => [k, { value }]));
}

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public ms = 1_000_000) {}
  readonly now = (): number => this.ms;
}
