/** Reads a `--flows` file: JSON when it ends in `.json`, otherwise the YAML subset (docs/chain-checks.md). */
import { readFileSync } from 'node:fs';
import { formatFlowError, parseFlows, type FlowContract } from '@linktrace/analysis';
import { ConfigError } from '../config.js';
import { DEFAULT_CHECKER } from './checker-options.js';

/** Throws ConfigError naming the file, and for each problem its line and the reason. */
export function readFlowsFile(path: string, what = '--flows'): FlowContract[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${what} ${path}: cannot read it: ${(error as Error).message}`);
  }
  const result = parseFlows(text, path.toLowerCase().endsWith('.json') ? 'json' : 'yaml');
  if (!result.ok) throw new ConfigError(`${what} ${path}: ${result.errors.map(formatFlowError).join('; ')}`);
  if (result.flows.length > DEFAULT_CHECKER.maxFlows) {
    throw new ConfigError(`${what} ${path}: declares ${result.flows.length} flow contracts; at most ${DEFAULT_CHECKER.maxFlows} can be in force`);
  }
  return result.flows;
}
