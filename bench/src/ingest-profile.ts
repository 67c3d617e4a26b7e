/**
 * Reads a V8 CPU profile (`node --cpu-prof`) of the server and says where its JavaScript thread
 * spent its time: self time by source file (our packages by path, dependencies by package, Node's
 * internals by module) and the heaviest functions.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** `[file or package, ms]`, largest first. */
  byFile: [string, number][];
  /** `[function (file:line), ms]`, largest first. */
  byFunction: [string, number][];
}

/** `…/packages/model/dist/src/codec/x.js` -> `model/codec/x`, `…/node_modules/fastify/…` -> `fastify`. */
export function sourceGroup(url: string, functionName: string): string {
  if (url === '') return functionName === '' ? '(anonymous)' : functionName;
  const ours = /\/packages\/([^/]+)\/dist\/src\/(.+)\.js$/.exec(url);
  if (ours !== null) return `${ours[1]}/${ours[2]}`;
  const dep = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (dep !== null) return dep[1]!;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '');
}

export function summarizeProfile(file: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + dt);
    totalUs += dt;
  }
  const files = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const group = sourceGroup(frame.url, frame.functionName);
    files.set(group, (files.get(group) ?? 0) + us);
    const fn = frame.url === '' ? group : `${frame.functionName || '(anonymous)'} (${group}:${frame.lineNumber + 1})`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  const ranked = (m: Map<string, number>): [string, number][] =>
    [...m]
      .map(([k, us]): [string, number] => [k, us / 1000])
      .sort((a, b) => b[1] - a[1])
      .slice(0, top);
  return { totalMs: totalUs / 1000, byFile: ranked(files), byFunction: ranked(functions) };
}
