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

/** A delivery of a message (its consumer span) that a finding involves. */
export interface FindingDelivery {
  /** The consumer span of the delivery. */
  spanId: string;
  /** Its position (DESIGN §2; a redelivery's is `P.0.n`, docs/model.md). */
  rpcid?: string;
  /** Which delivery of the message it was (1 = first), when the broker said. */
  count?: number;
  /** The span below this delivery that the finding is about (for `duplicate-write`: its write). */
  writeSpanId: string;
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
  /**
   * `duplicate-write` whose writes were made under different deliveries of messages (a redelivery
   * after a lost ack or a requeue): every such delivery, in the order of their writes. The finding
   * itself names the second write (`spanId`). Not kept by the stores yet; the message names them too.
   */
  deliveries?: FindingDelivery[];
}
