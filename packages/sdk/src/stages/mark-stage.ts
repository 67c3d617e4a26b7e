import { ATTR, type Stage } from '@linktrace/model';
import { EntityFields, type StageEntity } from './entity.js';
import type { StageSpan } from './stage-span.js';
import { isSchemeName, normalizeTarget } from './target.js';

/** Bits of what was wrong with one stage declaration (0: nothing). */
export const PROBLEM_ENTITY = 1;
export const PROBLEM_TARGET = 2;
export const PROBLEM_REASON = 4;
export const PROBLEM_CALL = 8;

/**
 * Sets the DESIGN §3 attributes of `stage` on `span`: the stage, the valid parts of the entity, and
 * `detail` as the target of a write/enqueue or the reason of a skip. An invalid entity part or reason
 * is left out; a target string that is not `scheme:name` is kept as given (a human can still read
 * it) but reported. Returns the PROBLEM_* bits.
 */
export function applyStage(span: StageSpan, stage: Stage, fields: EntityFields, entityValid: boolean, detail: unknown): number {
  let problems = entityValid ? 0 : PROBLEM_ENTITY;
  span.setAttribute(ATTR.stage, stage);
  fields.write(span);
  if (stage === 'write' || stage === 'enqueue') {
    if (typeof detail === 'string' && detail.length > 0) {
      if (isSchemeName(detail)) {
        span.setAttribute(ATTR.target, normalizeTarget(detail));
      } else {
        span.setAttribute(ATTR.target, detail);
        problems |= PROBLEM_TARGET;
      }
    } else {
      problems |= PROBLEM_TARGET;
    }
  } else if (stage === 'skip') {
    if (typeof detail === 'string' && detail.length > 0) span.setAttribute(ATTR.skipReason, detail);
    else problems |= PROBLEM_REASON;
  } else if (detail !== undefined) {
    // Only writes and enqueues have a target (DESIGN §3); anything else given here is a mistake.
    problems |= PROBLEM_CALL;
  }
  return problems;
}

export function isStage(value: unknown): value is Stage {
  switch (value) {
    case 'receive':
    case 'process':
    case 'write':
    case 'skip':
    case 'enqueue':
    case 'dequeue':
    case 'consume':
      return true;
    default:
      return false;
  }
}

// Reused: marking is synchronous and runs no user code between reading and writing the entity.
const scratch = new EntityFields();

/** Like `markStage`, but returns the PROBLEM_* bits (for callers that count them). */
export function markStageProblems(span: StageSpan | null | undefined, stage: Stage, entity: StageEntity, detail?: string): number {
  if (span === null || typeof span !== 'object' || typeof span.setAttribute !== 'function' || !isStage(stage)) return PROBLEM_CALL;
  const entityValid = scratch.read(entity);
  try {
    return applyStage(span, stage, scratch, entityValid, detail);
  } catch {
    // Another tracer's span may throw from setAttribute; ours never does.
    return PROBLEM_CALL;
  }
}

/**
 * Declares an existing span a stage: e.g. the consumer span an automatic instrumentation made for a
 * message delivery becomes the `receive` of an entity. Works on any span with `setAttribute`,
 * including OpenTelemetry spans. The span keeps its name and kind. Never throws; returns true when
 * every input was valid (what was valid is set either way).
 */
export function markStage(span: StageSpan | null | undefined, stage: 'write' | 'enqueue', entity: StageEntity, target: string): boolean;
export function markStage(span: StageSpan | null | undefined, stage: 'skip', entity: StageEntity, reason: string): boolean;
export function markStage(span: StageSpan | null | undefined, stage: 'receive' | 'process' | 'dequeue' | 'consume', entity: StageEntity): boolean;
export function markStage(span: StageSpan | null | undefined, stage: Stage, entity: StageEntity, detail?: string): boolean;
export function markStage(span: StageSpan | null | undefined, stage: Stage, entity: StageEntity, detail?: string): boolean {
  return markStageProblems(span, stage, entity, detail) === 0;
}
