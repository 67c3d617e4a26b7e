import type { Attributes, SpanKind } from '@linktrace/model';
import { defaultContext } from '../../context/context-manager.js';
import type { Context } from '../../context/context.js';
import { getGlobalTracing } from '../../trace/global.js';
import type { SpanHandle } from '../../trace/span-handle.js';
import type { Tracing } from '../../trace/tracing.js';
import { SCOPE_PREFIX } from '../core/enable.js';

export interface TraceJobOptions {
  /** Default: the global tracing at the time of the run. */
  tracing?: Tracing;
  attributes?: Attributes;
  /** Default `internal`; `consumer` suits a job fed by a queue. */
  kind?: SpanKind;
  /**
   * Default: a new trace per run (or a child of the parent a launcher handed over, `linktrace run`),
   * whatever span is active where the scheduler fires — a job is not part of the request that set
   * its timer.
   */
  parent?: Context;
}

export const JOB_NAME = 'linktrace.job.name';

/**
 * Runs one execution of a scheduled job (cron, interval, queue worker tick) in its own root span
 * named `name`: spans of the work become its children; a throw or a rejection is recorded (status
 * error, exception event) and propagates unchanged; `fn`'s result is returned as is.
 */
export function traceJob<R>(name: string, fn: (span: SpanHandle) => R, options: TraceJobOptions = {}): R {
  const tracing = options.tracing ?? getGlobalTracing();
  const jobName = typeof name === 'string' && name !== '' ? name : 'job';
  const attributes: Attributes = { ...options.attributes, [JOB_NAME]: jobName };
  return tracing
    .getTracer(`${SCOPE_PREFIX}jobs`)
    .trace(jobName, { kind: options.kind ?? 'internal', parent: options.parent ?? defaultContext(), attributes }, fn);
}
