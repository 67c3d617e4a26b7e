/**
 * Chain-check results (DESIGN §4). Declared here, once, because both the analysis package (which
 * produces findings) and the storage package (which stores and queries them) depend on the model:
 * the server stores what the checker returns as it is.
 */

/** The rule ids of DESIGN §4, exactly as findings carry them and as they are stored and queried. */
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
] as const;
export type RuleId = (typeof RULE_IDS)[number];

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
  /** The position id (DESIGN §2) of the span `spanId`, pinning the finding to its hop; the server adds it when the span has one. */
  rpcid?: string;
}
