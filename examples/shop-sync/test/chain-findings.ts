import { checkTrace, type Finding } from '@linktrace/analysis';
import type { CollectingSpanProcessor } from '@linktrace/sdk';
import { ended, unfinished } from './trace-helpers.js';

/**
 * slow-chain objective for these checks: far above a healthy chain here even at load 10-16 (a healthy
 * chain takes ~250 ms idle), below the slow fault's delay (a sleep, so never shorter under load).
 */
export const SLOW_OBJECTIVE_MS = 1000;

/**
 * The built-in chain checks over what the services reported for one trace (ended spans and the start
 * records of spans that never ended), evaluated one second after every rule deadline has passed.
 */
export function findingsOf(collector: CollectingSpanProcessor, traceId: string): Finding[] {
  const spans = [...ended(collector, traceId), ...unfinished(collector, traceId)];
  // A 5 s deadline leaves a loaded machine room to consume in time; checking 6 s ahead puts every
  // span that never ended past it.
  return checkTrace(spans, { deadlineMs: 5000, slowChainObjectiveMs: SLOW_OBJECTIVE_MS }, Date.now() * 1000 + 6_000_000);
}

/** `rule service shop:key@version [target]`, sorted: what a finding says about the hop. */
export function describeFindings(findings: readonly Finding[]): string[] {
  return findings
    .map((f) => {
      const e = f.entity === undefined ? '-' : `${f.entity.type}:${f.entity.key}@${f.entity.version ?? ''}`;
      return `${f.rule} ${f.service} ${e}${f.target === undefined ? '' : ` ${f.target}`}`;
    })
    .sort();
}
