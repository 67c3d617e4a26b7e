/**
 * Chain-check results (DESIGN §4). `Finding` has the same shape as the storage package's `Finding`
 * (packages/storage/src/types.ts) so that the server can store what the checker returns as it is;
 * it is declared here again because analysis depends on the model only.
 */

/** The rule ids of DESIGN §4, exactly as stored and queried. */
export type RuleId =
  | 'missing-write'
  | 'missing-downstream-receive'
  | 'not-consumed'
  | 'duplicate-write'
  | 'unfinished-span'
  | 'stage-error'
  | 'slow-chain'
  | 'flow-step-missing'
  | 'data-mismatch';

export const RULE_IDS: readonly RuleId[] = [
  'missing-write',
  'missing-downstream-receive',
  'not-consumed',
  'duplicate-write',
  'unfinished-span',
  'stage-error',
  'slow-chain',
  'flow-step-missing',
  'data-mismatch',
];

/** The business record a hop handles (`linktrace.entity.*`). */
export interface FindingEntity {
  type: string;
  key: string;
  version?: string;
}

/** A chain-check result. One broken hop, one finding. */
export interface Finding {
  traceId: string;
  rule: RuleId;
  /** The service of the broken hop. */
  service: string;
  /** The span that names the hop (for a missing flow step: the last step seen before the gap). */
  spanId: string;
  /** One human sentence naming the hop. */
  message: string;
  /** When the broken hop happened (the span's start), µs since the epoch. */
  timeUs: number;
  entity?: FindingEntity;
  /** `scheme:name` the hop wrote to (DESIGN §3), when relevant. */
  target?: string;
}
