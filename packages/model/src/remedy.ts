/**
 * The remedy protocol between the server and the SDK (docs/remedies.md): a finding's id, what a
 * delivered remedy request carries, and its signature. Declared here because both ends must agree
 * byte for byte on what is signed.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { RULE_IDS, type Finding, type RuleId } from './finding.js';

/** `replay`: run the missing step again for the entity and version. `undo`: revert a duplicate. */
export const REMEDY_ACTIONS = ['replay', 'undo'] as const;
export type RemedyAction = (typeof REMEDY_ACTIONS)[number];

/** What an instance's handler is told: the finding's entity, version and target, never stored payloads. */
export interface RemedyDelivery {
  /** The remedy's id, also its idempotency key: a remedy runs at most once. */
  id: string;
  findingId: string;
  action: RemedyAction;
  rule: RuleId;
  service: string;
  /** The hop's stage (`linktrace.stage` of the finding's span) and operation (its span name). */
  stage: string;
  operation: string;
  entity?: { type: string; key: string; version?: string };
  target?: string;
  /** The broken chain, so the remedy's own trace can link to it. */
  traceId: string;
  spanId: string;
  /** ms since the epoch after which the instance must not start it. */
  expiresAtMs: number;
}

/** The rules a remedy can repair, and with which action. */
export const REMEDY_ACTION_OF_RULE: Partial<Record<RuleId, RemedyAction>> = {
  'missing-write': 'replay',
  'not-consumed': 'replay',
  'missing-downstream-receive': 'replay',
  'stage-error': 'replay',
  'flow-step-missing': 'replay',
  'duplicate-write': 'undo',
};

const FINDING_ID = /^([0-9a-f]{16}|[0-9a-f]{32})-([0-9a-f]{16})-([a-z][a-z0-9-]*)$/;

/** A finding's stable id: its trace, its hop's span and its rule (one broken hop, one finding). */
export function findingId(finding: Pick<Finding, 'traceId' | 'spanId' | 'rule'>): string {
  return `${finding.traceId}-${finding.spanId}-${finding.rule}`;
}

/** The parts of a finding id, or undefined when it is not one. */
export function parseFindingId(id: string): { traceId: string; spanId: string; rule: RuleId } | undefined {
  const m = FINDING_ID.exec(id);
  if (m === null || !(RULE_IDS as readonly string[]).includes(m[3]!)) return undefined;
  return { traceId: m[1]!, spanId: m[2]!, rule: m[3] as RuleId };
}

/** The bytes a delivery's signature covers: its fields in a fixed order, so key order never matters. */
export function remedySigningText(d: RemedyDelivery): string {
  return JSON.stringify([
    d.id,
    d.findingId,
    d.action,
    d.rule,
    d.service,
    d.stage,
    d.operation,
    d.entity?.type ?? null,
    d.entity?.key ?? null,
    d.entity?.version ?? null,
    d.target ?? null,
    d.traceId,
    d.spanId,
    d.expiresAtMs,
  ]);
}

/** `sha256=<hex>` HMAC of the delivery with the shared remedy secret. */
export function signRemedy(d: RemedyDelivery, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(remedySigningText(d)).digest('hex')}`;
}

/** True when `signature` is the delivery's HMAC under `secret` (constant-time compare). */
export function verifyRemedy(d: RemedyDelivery, signature: string, secret: string): boolean {
  const expected = Buffer.from(signRemedy(d, secret));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Attributes of the root span a remedy runs in (its own trace, linked to the broken one). */
export const REMEDY_ATTR = {
  id: 'linktrace.remedy.id',
  finding: 'linktrace.remedy.finding',
  action: 'linktrace.remedy.action',
} as const;

/** What an instance reports when a remedy has run. */
export interface RemedyResult {
  status: 'succeeded' | 'failed' | 'superseded';
  /** The trace the remedy ran as. */
  remedyTraceId?: string;
  reason?: string;
}

/** `sha256=<hex>` HMAC of a result: only an instance holding the secret can report one. */
export function signRemedyResult(remedyId: string, result: RemedyResult, secret: string): string {
  const text = JSON.stringify([remedyId, result.status, result.remedyTraceId ?? null, result.reason ?? null]);
  return `sha256=${createHmac('sha256', secret).update(text).digest('hex')}`;
}

/** True when `signature` is the result's HMAC under `secret`. */
export function verifyRemedyResult(remedyId: string, result: RemedyResult, signature: string, secret: string): boolean {
  const expected = Buffer.from(signRemedyResult(remedyId, result, secret));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
