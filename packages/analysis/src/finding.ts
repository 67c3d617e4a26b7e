/**
 * Chain-check results (DESIGN §4). The types live in the model, shared with the storage package;
 * re-exported here so that imports from this module keep working.
 */
export { RULE_IDS } from '@linktrace/model';
export type { Finding, FindingDelivery, FindingEntity, RuleId } from '@linktrace/model';
