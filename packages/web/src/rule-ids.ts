/**
 * The rule ids of DESIGN §4, as findings carry them. A copy of `RULE_IDS` from `@linktrace/model`:
 * that package has one entry point, and importing it pulls module-level code of its id and codec
 * files into the bundle (+1.1 kB to the findings chunk, and node:os/node:crypto/node:buffer stubs),
 * for nine strings. `rule-ids.test.ts` fails when the two lists differ; the type below fails the
 * build when this list names a rule the server's types do not know.
 */
import type { RuleId } from './api/types.js';

export const RULE_IDS = [
  'missing-write',
  'missing-downstream-receive',
  'not-consumed',
  'duplicate-write',
  'unfinished-span',
  'stage-error',
  'slow-chain',
  'flow-step-missing',
  'data-mismatch',
] as const satisfies readonly RuleId[];
