/** Reads a flow file (JSON, or the YAML subset of docs/chain-checks.md) into validated contracts. */
import { LocatedError } from './located-value.js';
import type { LocatedValue } from './located-value.js';
import { parseJsonLocated } from './parse-json-located.js';
import { parseYamlSubset } from './parse-yaml-subset.js';
import { validateFlows } from './validate-flows.js';
import type { FlowsResult } from './validate-flows.js';

/** A malformed file is refused: every error has the line and the reason. Never throws. */
export function parseFlows(text: string, format: 'yaml' | 'json'): FlowsResult {
  if (typeof text !== 'string') return { ok: false, errors: [{ path: '', message: 'flow file content must be text' }] };
  if (format !== 'yaml' && format !== 'json') return { ok: false, errors: [{ path: '', message: `unknown format ${String(format)} (yaml or json)` }] };
  let parsed: LocatedValue;
  try {
    parsed = format === 'json' ? parseJsonLocated(text) : parseYamlSubset(text);
  } catch (e) {
    if (e instanceof LocatedError) return { ok: false, errors: [{ path: '', line: e.line, message: e.message }] };
    return { ok: false, errors: [{ path: '', message: e instanceof Error ? e.message : String(e) }] };
  }
  const result = validateFlows(parsed.value);
  if (result.ok) return result;
  const bare = Array.isArray(parsed.value);
  for (const e of result.errors) {
    // A bare list has no `flows` key: its paths start at `[0]`. An error about an absent key takes
    // the line of the nearest enclosing value.
    let p = bare ? e.path.replace(/^flows/, '') : e.path;
    let line = parsed.lines.get(p);
    while (line === undefined && p !== '') {
      const up = p.replace(/(?:\.?[^.[\]]+|\[\d+\])$/, '');
      p = up === p ? '' : up;
      line = parsed.lines.get(p);
    }
    if (line !== undefined) e.line = line;
  }
  return result;
}

/** `line 7: flows[1].steps[0].service: must be a non-empty string`. */
export function formatFlowError(e: { path: string; line?: number; message: string }): string {
  const where = [e.line !== undefined ? `line ${e.line}` : '', e.path].filter((s) => s !== '').join(': ');
  return where === '' ? e.message : `${where}: ${e.message}`;
}
