/**
 * Settings of the streaming chain checker (DESIGN §4). Rule deadlines default to the check delay;
 * the open-trace caps bound the checker's memory.
 */
import type { FlowContract } from '@linktrace/analysis';
import { ConfigError } from '../config.js';

export interface CheckerOptions {
  /** Quiet time (no new span) before a trace is checked. Default 30 s. */
  checkDelayMs?: number;
  /** A trace is checked this long after its first span arrived, even if spans keep coming. Default 5 min. */
  maxWaitMs?: number;
  /** Rule deadline (unfinished spans, consumers, downstream receives). Default: the check delay. */
  deadlineMs?: number;
  /** `slow-chain` objective, first receive → last write; off when absent. */
  slowChainMs?: number;
  /** Flow contracts from the configuration file; more can be declared through the API. */
  flows?: readonly FlowContract[];
  /** Default 100 000. */
  maxOpenTraces?: number;
  /** Default 10 000. */
  maxSpansPerTrace?: number;
  /** Flow instances kept per flow for its summary. Default 10 000. */
  flowHistory?: number;
  /** Flow contracts in force at most, file and API together. Default 1 000. */
  maxFlows?: number;
  /**
   * The checker sees one host's spans (a federated agent): the rules that need the other side of a
   * call or of a whole chain (analysis `HOST_CROSSING_RULES`) are neither run nor reported; the gateway checks whole traces.
   */
  hostLocal?: boolean;
}

export interface ResolvedCheckerOptions {
  checkDelayMs: number;
  maxWaitMs: number;
  deadlineMs: number;
  slowChainMs: number | undefined;
  flows: readonly FlowContract[];
  maxOpenTraces: number;
  maxSpansPerTrace: number;
  flowHistory: number;
  maxFlows: number;
  hostLocal: boolean;
  /** How often due traces are looked for: a quarter of the check delay, 10 ms to 1 s. */
  tickMs: number;
}

export const DEFAULT_CHECKER = Object.freeze({
  checkDelayMs: 30_000,
  maxWaitMs: 300_000,
  maxOpenTraces: 100_000,
  maxSpansPerTrace: 10_000,
  flowHistory: 10_000,
  maxFlows: 1000,
});

function positive(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new ConfigError(`checker.${what}: ${String(value)} is not a positive whole number`);
  return value;
}

export function resolveChecker(options: CheckerOptions): ResolvedCheckerOptions {
  const checkDelayMs = positive(options.checkDelayMs, DEFAULT_CHECKER.checkDelayMs, 'checkDelayMs');
  const maxWaitMs = positive(options.maxWaitMs, Math.max(DEFAULT_CHECKER.maxWaitMs, checkDelayMs), 'maxWaitMs');
  if (maxWaitMs < checkDelayMs) throw new ConfigError(`checker.maxWaitMs: ${maxWaitMs} ms is shorter than the check delay (${checkDelayMs} ms)`);
  return {
    checkDelayMs,
    maxWaitMs,
    deadlineMs: positive(options.deadlineMs, checkDelayMs, 'deadlineMs'),
    slowChainMs: options.slowChainMs === undefined ? undefined : positive(options.slowChainMs, 0, 'slowChainMs'),
    flows: options.flows ?? [],
    maxOpenTraces: positive(options.maxOpenTraces, DEFAULT_CHECKER.maxOpenTraces, 'maxOpenTraces'),
    maxSpansPerTrace: positive(options.maxSpansPerTrace, DEFAULT_CHECKER.maxSpansPerTrace, 'maxSpansPerTrace'),
    flowHistory: positive(options.flowHistory, DEFAULT_CHECKER.flowHistory, 'flowHistory'),
    maxFlows: positive(options.maxFlows, DEFAULT_CHECKER.maxFlows, 'maxFlows'),
    hostLocal: options.hostLocal === true,
    // Due traces are looked for ten times per check delay: detection lags the delay by at most a tenth.
    tickMs: Math.min(500, Math.max(10, Math.floor(checkDelayMs / 10))),
  };
}
