/** Checks plain objects (parsed from any file format) against the flow contract shape. */
import { STAGES } from '@linktrace/model';
import type { Stage } from '@linktrace/model';
import type { FlowContract, FlowMatch, FlowStep } from './flow-contract.js';

/** Why a flow definition was refused: where (`flows[1].steps[0].service`, and the line when known) and why. */
export interface FlowError {
  path: string;
  line?: number;
  message: string;
}

export type FlowsResult = { ok: true; flows: FlowContract[] } | { ok: false; errors: FlowError[] };

const TARGET_RE = /^[a-z][a-z0-9+.-]*:\S+$/i;
/** Most steps in one contract: evaluating a contract costs its steps × the trace's spans. */
export const MAX_FLOW_STEPS = 64;
/** Longest name, service, target or entity type in a contract (characters). */
export const MAX_FLOW_TEXT = 256;
const FLOW_KEYS = new Set(['name', 'match', 'steps', 'deadlineMs']);
const STEP_KEYS = new Set(['service', 'stage', 'target']);
const MATCH_KEYS = new Set(['service', 'stage', 'target', 'entityType']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Accepts `{ flows: [...] }` or a bare array of flows. Unknown keys are errors (a misspelt key would
 * otherwise silently change what is checked). Every error is reported, not only the first.
 */
export function validateFlows(input: unknown): FlowsResult {
  const errors: FlowError[] = [];
  const err = (path: string, message: string): void => {
    errors.push({ path, message });
  };
  let list: unknown = input;
  if (isObject(input)) {
    for (const k of Object.keys(input)) if (k !== 'flows') err(k, 'unknown key (expected only "flows")');
    list = input['flows'];
  }
  if (!Array.isArray(list)) {
    err('flows', 'must be a list of flows');
    return { ok: false, errors };
  }
  const flows: FlowContract[] = [];
  const names = new Set<string>();
  list.forEach((raw: unknown, fi) => {
    const at = `flows[${fi}]`;
    if (!isObject(raw)) {
      err(at, 'must be a mapping with name, steps and deadlineMs');
      return;
    }
    for (const k of Object.keys(raw)) if (!FLOW_KEYS.has(k)) err(`${at}.${k}`, 'unknown key');
    const name = raw['name'];
    if (typeof name !== 'string' || name.trim() === '') err(`${at}.name`, 'must be a non-empty string');
    else if (name.length > MAX_FLOW_TEXT) err(`${at}.name`, `must be at most ${MAX_FLOW_TEXT} characters`);
    else if (names.has(name)) err(`${at}.name`, `duplicate flow name "${name}"`);
    else names.add(name);
    const deadline = raw['deadlineMs'];
    if (typeof deadline !== 'number' || !Number.isFinite(deadline) || deadline <= 0) err(`${at}.deadlineMs`, 'must be a positive number of milliseconds');
    const steps: FlowStep[] = [];
    const rawSteps = raw['steps'];
    if (!Array.isArray(rawSteps) || rawSteps.length === 0) err(`${at}.steps`, 'must be a non-empty list of steps');
    else if (rawSteps.length > MAX_FLOW_STEPS) err(`${at}.steps`, `must have at most ${MAX_FLOW_STEPS} steps (it has ${rawSteps.length})`);
    else {
      rawSteps.forEach((s: unknown, si) => {
        const sp = `${at}.steps[${si}]`;
        if (!isObject(s)) {
          err(sp, 'must be a mapping with service, stage and optional target');
          return;
        }
        for (const k of Object.keys(s)) if (!STEP_KEYS.has(k)) err(`${sp}.${k}`, 'unknown key');
        const step = checkFields(s, sp, err, true);
        if (step !== undefined) steps.push(step as FlowStep);
      });
    }
    let match: FlowMatch | undefined;
    if (raw['match'] !== undefined) {
      const m = raw['match'];
      if (!isObject(m)) err(`${at}.match`, 'must be a mapping (service, stage, target, entityType)');
      else {
        for (const k of Object.keys(m)) if (!MATCH_KEYS.has(k)) err(`${at}.match.${k}`, 'unknown key');
        match = checkFields(m, `${at}.match`, err, false);
        const et = m['entityType'];
        if (et !== undefined) {
          if (typeof et !== 'string' || et === '') err(`${at}.match.entityType`, 'must be a non-empty string');
          else if (et.length > MAX_FLOW_TEXT) err(`${at}.match.entityType`, `must be at most ${MAX_FLOW_TEXT} characters`);
          else if (match !== undefined) match.entityType = et;
        }
      }
    }
    if (errors.length === 0) {
      const flow: FlowContract = { name: name as string, steps, deadlineMs: deadline as number };
      if (match !== undefined) flow.match = match;
      flows.push(flow);
    }
  });
  return errors.length === 0 ? { ok: true, flows } : { ok: false, errors };
}

function checkFields(o: Record<string, unknown>, at: string, err: (p: string, m: string) => void, required: boolean): FlowMatch | undefined {
  let ok = true;
  const out: FlowMatch = {};
  const service = o['service'];
  if (service !== undefined || required) {
    if (typeof service !== 'string' || service === '') {
      err(`${at}.service`, 'must be a non-empty string');
      ok = false;
    } else if (service.length > MAX_FLOW_TEXT) {
      err(`${at}.service`, `must be at most ${MAX_FLOW_TEXT} characters`);
      ok = false;
    } else out.service = service;
  }
  const stage = o['stage'];
  if (stage !== undefined || required) {
    if (typeof stage !== 'string' || !STAGES.includes(stage as Stage)) {
      err(`${at}.stage`, `must be one of ${STAGES.join(', ')}`);
      ok = false;
    } else out.stage = stage as Stage;
  }
  const target = o['target'];
  if (target !== undefined) {
    if (typeof target !== 'string' || target.length > MAX_FLOW_TEXT || !TARGET_RE.test(target)) {
      err(`${at}.target`, `must be scheme:name of at most ${MAX_FLOW_TEXT} characters, e.g. mysql:user_shop`);
      ok = false;
    } else out.target = target;
  }
  return ok ? out : undefined;
}
