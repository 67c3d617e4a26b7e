/**
 * The server's JavaScript thread by ingest step, from a V8 CPU profile (`node --cpu-prof`): each
 * sample goes to the innermost frame on its stack that belongs to a step (decode, limits, WAL,
 * queue, store, checker feed, RED, …), so a step's time includes what it calls (JSON.parse under
 * the decoder, Buffer work under the WAL) unless that is itself a step. Samples of V8's collector
 * on this thread are their own step; idle time is left out. Used to keep docs/benchmarks.md's
 * "Ingest CPU by step" table reproducible. V8 samples by wall-clock time, so on a loaded machine
 * the figures are shares (the caller scales them by the thread's CPU time).
 */
import { readFileSync } from 'node:fs';
import { sourceGroup } from './ingest-profile.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  /** µs on the monotonic clock (the one `process.hrtime` reads in every process of the machine). */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A span of time on the monotonic clock, µs (`process.hrtime.bigint() / 1000n`). */
export interface ProfileWindow {
  fromUs: number;
  toUs: number;
}

/** Step names in table order. */
export const STEPS = [
  'HTTP (Node, Fastify, routes, answers)',
  'gunzip (JS side: chunks, budget)',
  'decode (JSON.parse, OTLP/Zipkin decoders, validation)',
  'future spans',
  'limits',
  'WAL (append, group commit, confirm)',
  'queue (pipeline: accept, batches, feed)',
  'store (packages/storage)',
  'checker feed (spansStored)',
  'checker rounds (checks, findings)',
  'RED metrics',
  'sampling',
  'SDK drop reports',
  'metrics, other server code',
  'GC (on the JavaScript thread)',
  'other (V8, Node internals)',
] as const;
export type Step = (typeof STEPS)[number];

/** The step a source group (see `sourceGroup`) belongs to; undefined: look further up the stack. */
function stepOfGroup(group: string, functionName: string): Step | undefined {
  if (group === '(garbage collector)') return 'GC (on the JavaScript thread)';
  if (group.startsWith('model/') || group === 'server/ingest/wire-format') return 'decode (JSON.parse, OTLP/Zipkin decoders, validation)';
  if (group === 'server/ingest/decompress' || group === 'server/ingest/byte-budget') return 'gunzip (JS side: chunks, budget)';
  if (group === 'server/ingest/future-spans') return 'future spans';
  if (group === 'server/ingest/span-limits') return 'limits';
  if (group.startsWith('server/wal/')) return 'WAL (append, group commit, confirm)';
  if (group.startsWith('server/pipeline/')) return 'queue (pipeline: accept, batches, feed)';
  if (group.startsWith('storage/')) return 'store (packages/storage)';
  if (group.startsWith('server/checker/') || group.startsWith('analysis/')) {
    return functionName === 'spansStored' ? 'checker feed (spansStored)' : 'checker rounds (checks, findings)';
  }
  if (group.startsWith('server/red/')) return 'RED metrics';
  if (group.startsWith('server/sampling/')) return 'sampling';
  if (group.startsWith('server/sdk-drops/')) return 'SDK drop reports';
  if (group.startsWith('server/ingest/') || group.startsWith('server/routes/') || group.startsWith('server/http/')) return 'HTTP (Node, Fastify, routes, answers)';
  if (group === 'fastify' || group.startsWith('@fastify/') || group === 'find-my-way' || group === 'light-my-request' || group === 'avvio' || group === 'pino') {
    return 'HTTP (Node, Fastify, routes, answers)';
  }
  if (group.startsWith('node:_http') || group === 'node:net' || group === 'node:_stream_readable' || group.startsWith('node:internal/streams') || group === 'node:http') {
    return 'HTTP (Node, Fastify, routes, answers)';
  }
  if (group.startsWith('server/') || group === 'prom-client') return 'metrics, other server code';
  return undefined;
}

export interface StepProfile {
  /** Sampled ms of the JavaScript thread, idle left out. */
  busyMs: number;
  idleMs: number;
  /** ms by step, in STEPS order (steps with no samples included, as 0). */
  steps: [Step, number][];
  /** The source groups (see `sourceGroup`) whose samples fell to each step, ms, largest first. */
  groups: Map<Step, [string, number][]>;
}

/** Samples inside `window` only (e.g. first request to all stored), all of them without one. */
export function profileSteps(file: string, window?: ProfileWindow): StepProfile {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const feedMemo = new Map<number, boolean>();
  const underFeed = (id: number): boolean => {
    const known = feedMemo.get(id);
    if (known !== undefined) return known;
    const up = parent.get(id);
    const yes = byId.get(id)!.callFrame.functionName === 'spansStored' || (up !== undefined && underFeed(up));
    feedMemo.set(id, yes);
    return yes;
  };
  const memo = new Map<number, Step | 'idle'>();
  const stepOf = (id: number): Step | 'idle' => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const frame = byId.get(id)!.callFrame;
    let step: Step | 'idle' | undefined;
    const group = sourceGroup(frame.url, frame.functionName);
    if (frame.functionName === '(idle)') step = 'idle';
    else if (group.startsWith('model/')) {
      // The model's code (span validation, codecs) works for whoever calls it: the store validating
      // what it writes is the store's step; only under the receivers (or nobody) is it decode.
      const up = parent.get(id);
      const caller = up === undefined ? undefined : stepOf(up);
      step = caller === undefined || caller === 'idle' || caller === 'HTTP (Node, Fastify, routes, answers)' || caller === 'other (V8, Node internals)' ? stepOfGroup(group, frame.functionName) : caller;
    } else step = stepOfGroup(group, frame.functionName);
    if (step === undefined) {
      const up = parent.get(id);
      step = up === undefined ? 'other (V8, Node internals)' : stepOf(up);
    } else if (step === 'checker rounds (checks, findings)' && underFeed(id)) {
      // compactSpan and the trace buffer called from spansStored: the feed, not a check round.
      step = 'checker feed (spansStored)';
    }
    memo.set(id, step);
    return step;
  };
  const ms = new Map<Step, number>(STEPS.map((s) => [s, 0]));
  const groups = new Map<Step, Map<string, number>>(STEPS.map((s) => [s, new Map()]));
  let idleUs = 0;
  let busyUs = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (window !== undefined && (at < window.fromUs || at > window.toUs)) continue;
    const step = stepOf(profile.samples[i]!);
    if (step === 'idle') idleUs += dt;
    else {
      busyUs += dt;
      ms.set(step, ms.get(step)! + dt / 1000);
      const frame = byId.get(profile.samples[i]!)!.callFrame;
      const g = groups.get(step)!;
      const key = sourceGroup(frame.url, frame.functionName);
      g.set(key, (g.get(key) ?? 0) + dt / 1000);
    }
  }
  return {
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    steps: STEPS.map((s) => [s, ms.get(s)!]),
    groups: new Map([...groups].map(([s, g]) => [s, [...g].sort((a, b) => b[1] - a[1])])),
  };
}
