/**
 * Which remedy repairs a finding of each rule (docs/remedies.md): a copy of `REMEDY_ACTION_OF_RULE`
 * from `@linktrace/model`, for the reason `rule-ids.ts` gives (that module also pulls node:crypto for
 * the signatures). `remedy-actions.test.ts` fails when the two differ.
 */
import type { RemedyView, RuleId } from './api/types.js';

export const REMEDY_ACTION_OF_RULE: Partial<Record<RuleId, RemedyView['action']>> = {
  'missing-write': 'replay',
  'not-consumed': 'replay',
  'missing-downstream-receive': 'replay',
  'stage-error': 'replay',
  'flow-step-missing': 'replay',
  'duplicate-write': 'undo',
};

/** States after which nothing more happens to a remedy; a new request after `failed` or `expired` starts a new attempt. */
export const FINISHED_STATES: ReadonlySet<string> = new Set(['verified', 'failed', 'expired', 'superseded']);
export const RETRYABLE_STATES: ReadonlySet<string> = new Set(['failed', 'expired']);
