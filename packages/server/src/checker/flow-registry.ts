/**
 * The flow contracts in force (from the --flows file and the API) and, per flow, the latest result
 * of the most recent instances, for `GET /api/v1/flows`; plus, for `GET /api/v1/flows/{name}`,
 * instances and broken ones per minute of instance start (the last day) and the most recent broken
 * instances with their missing steps. Contracts declared through the API are kept in
 * `<data>/checker/flows.json` so that a restart keeps them; the history is in memory only.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OldestFirst, type Span } from '@linktrace/model';
import { evaluateFlowFacts, FlowIndex, formatFlowError, parseFlows, readFacts, summarizeFlow } from '@linktrace/analysis';
import type { FlowContract, FlowResult, FlowSummary } from '@linktrace/analysis';
import { DEFAULT_CHECKER } from './checker-options.js';
import { ConfigError } from '../config.js';

export interface FlowView {
  contract: FlowContract;
  /** Where the contract was declared. */
  source: 'file' | 'api';
  summary: FlowSummary;
}

/** Instances that started in one time bucket, and how many of them are broken now. */
export interface FlowBucket {
  /** Start of the bucket, µs since the epoch. */
  startUs: number;
  instances: number;
  broken: number;
}

export interface BrokenInstance {
  traceId: string;
  /** When the instance started, µs since the epoch. */
  atUs: number;
  /** The steps missing at the deadline (`service stage [target]`); a late step ends with ` (late)`. */
  missing: string[];
}

export interface FlowDetail {
  flow: FlowView;
  /** Oldest first; buckets without instances are left out. */
  history: FlowBucket[];
  /** Most recently broken first. */
  brokenInstances: BrokenInstance[];
}

/** History buckets are one minute wide… */
export const FLOW_BUCKET_US = 60_000_000;
/** …and a flow keeps the latest day of them. */
export const MAX_FLOW_BUCKETS = 1440;
/** Broken instances kept per flow. */
export const MAX_BROKEN_INSTANCES = 100;

/** What a trace's flow results leave to do: the latest deadline still ahead, if any. */
export interface FlowOutcome {
  pendingUntilUs: number | undefined;
}

/** Only what a summary needs: the steps and findings of old results are not kept. */
type KeptResult = Pick<FlowResult, 'flow' | 'traceId' | 'status' | 'endToEndUs'> & { steps: never[]; findings: never[]; bucketUs?: number };

interface BucketCounts {
  instances: number;
  broken: number;
}

interface FlowEntry {
  contract: FlowContract;
  source: 'file' | 'api';
  /** Latest result by trace id, oldest first. */
  results: Map<string, KeptResult>;
  /** Counts by bucket start (µs). An instance judged again moves its count; one evicted from `results` stays counted. */
  buckets: Map<number, BucketCounts>;
  /** By trace id, oldest break first. */
  broken: Map<string, BrokenInstance>;
  oldestResult: OldestFirst<string, KeptResult>;
  oldestBreak: OldestFirst<string, BrokenInstance>;
}

function newEntry(contract: FlowContract, source: 'file' | 'api'): FlowEntry {
  const results = new Map<string, KeptResult>();
  const broken = new Map<string, BrokenInstance>();
  return { contract, source, results, buckets: new Map(), broken, oldestResult: new OldestFirst(results), oldestBreak: new OldestFirst(broken) };
}

function stepText(r: FlowResult['steps'][number]): string {
  const s = r.step;
  const text = s.target === undefined ? `${s.service} ${s.stage}` : `${s.service} ${s.stage} ${s.target}`;
  return r.status === 'late' ? `${text} (late)` : text;
}

function count(entry: FlowEntry, bucketUs: number, broken: boolean, delta: 1 | -1): void {
  let b = entry.buckets.get(bucketUs);
  if (b === undefined) {
    if (delta < 0) return;
    entry.buckets.set(bucketUs, (b = { instances: 0, broken: 0 }));
    if (entry.buckets.size > MAX_FLOW_BUCKETS) entry.buckets.delete(Math.min(...entry.buckets.keys()));
  }
  b.instances += delta;
  if (broken) b.broken += delta;
  if (b.instances <= 0) entry.buckets.delete(bucketUs);
}

/** Flow contracts in force at most (file and API together), unless the checker options say otherwise. */
export const DEFAULT_MAX_FLOWS = DEFAULT_CHECKER.maxFlows;

/** A declaration that would put more contracts in force than the limit; nothing of it was declared. */
export class FlowLimitError extends Error {
  override readonly name = 'FlowLimitError';
}

/** A contract that only the --flows file can change. */
export class FileFlowError extends Error {
  override readonly name = 'FileFlowError';
}

export class FlowRegistry {
  private readonly entries = new Map<string, FlowEntry>();
  private list: FlowContract[] = [];
  private flowIndex = new FlowIndex([]);
  /** Contract evaluations so far (one contract on one trace): what checking costs, independent of the contracts in force. */
  evaluations = 0;
  private readonly apiFile: string | undefined;
  /** Saves run one after the other: two declarations at once must not interleave their file writes. */
  private saving: Promise<void> = Promise.resolve();

  constructor(
    fileFlows: readonly FlowContract[],
    private readonly history: number,
    /** Where API-declared contracts are kept; none for an app without a data directory. */
    private readonly dir?: string,
    /** Contracts in force at most, file and API together. */
    readonly maxFlows: number = DEFAULT_MAX_FLOWS,
  ) {
    if (fileFlows.length > maxFlows) throw new ConfigError(`the flows file declares ${fileFlows.length} contracts; at most ${maxFlows} can be in force`);
    for (const contract of fileFlows) this.entries.set(contract.name, newEntry(contract, 'file'));
    this.apiFile = dir === undefined ? undefined : join(dir, 'flows.json');
    this.refresh();
  }

  /** The contracts checked on every trace (a new array whenever they change: safe to hold during a check). */
  get contracts(): readonly FlowContract[] {
    return this.list;
  }

  /** The contracts in force, indexed by what starts an instance (a new index whenever they change). */
  get index(): FlowIndex {
    return this.flowIndex;
  }

  /** Loads contracts declared through the API by a previous run. A damaged file is reported and ignored. */
  async load(warn: (line: string) => void): Promise<void> {
    if (this.apiFile === undefined) return;
    let text: string;
    try {
      text = await readFile(this.apiFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const parsed = parseFlows(text, 'json');
    if (!parsed.ok) {
      warn(`chain checker: ignoring ${this.apiFile}: ${parsed.errors.map(formatFlowError).join('; ')}`);
      return;
    }
    let loaded = 0;
    for (const contract of parsed.flows) {
      if (!this.entries.has(contract.name) && this.entries.size >= this.maxFlows) {
        warn(`chain checker: ${this.apiFile}: only ${loaded} of ${parsed.flows.length} contracts loaded; at most ${this.maxFlows} can be in force`);
        break;
      }
      this.entries.set(contract.name, newEntry(contract, 'api'));
      loaded++;
    }
    this.refresh();
  }

  /** Adds or replaces contracts (validated by the caller) and keeps the API-declared ones on disk. Returns the names that were new. */
  async declare(contracts: readonly FlowContract[]): Promise<string[]> {
    const fresh = contracts.filter((c) => !this.entries.has(c.name)).length;
    if (this.entries.size + fresh > this.maxFlows) {
      throw new FlowLimitError(
        `${this.entries.size} flow contracts are in force and this request adds ${fresh}; at most ${this.maxFlows} can be in force (DELETE /api/v1/flows/{name} removes one)`,
      );
    }
    const created: string[] = [];
    for (const contract of contracts) {
      const old = this.entries.get(contract.name);
      if (old === undefined) created.push(contract.name);
      // A changed contract starts a new summary: old instances were judged by other rules.
      this.entries.set(contract.name, newEntry(contract, 'api'));
    }
    this.refresh();
    await this.persist();
    return created;
  }

  /**
   * Removes a contract declared through the API (kept removed across restarts). False when no
   * contract has that name; FileFlowError for one from the --flows file, which a restart would bring back.
   */
  async remove(name: string): Promise<boolean> {
    const entry = this.entries.get(name);
    if (entry === undefined) return false;
    if (entry.source === 'file') throw new FileFlowError(`flow ${JSON.stringify(name)} is declared in the --flows file; remove it there`);
    this.entries.delete(name);
    this.refresh();
    await this.persist();
    return true;
  }

  private async persist(): Promise<void> {
    const saved = this.saving.then(() => this.save());
    this.saving = saved.catch(() => undefined);
    await saved;
  }

  /** Evaluates every contract on one trace, records the results, and says whether a deadline is still ahead. */
  evaluate(spans: readonly Span[], nowUs: number): FlowOutcome {
    let pendingUntilUs: number | undefined;
    if (this.flowIndex.size === 0) return { pendingUntilUs };
    const facts = readFacts(spans);
    for (const contract of this.flowIndex.candidates(facts)) {
      const entry = this.entries.get(contract.name);
      if (entry === undefined) continue;
      this.evaluations++;
      const r = evaluateFlowFacts(contract, facts, nowUs);
      if (r.status === 'not-matched') continue;
      if (r.status === 'pending' && r.startUs !== undefined) {
        const until = r.startUs + entry.contract.deadlineMs * 1000;
        if (pendingUntilUs === undefined || until > pendingUntilUs) pendingUntilUs = until;
      }
      const kept: KeptResult = { flow: r.flow, traceId: r.traceId, status: r.status, steps: [], findings: [] };
      if (r.endToEndUs !== undefined) kept.endToEndUs = r.endToEndUs;
      const results = entry.results;
      const old = results.get(r.traceId);
      if (old?.bucketUs !== undefined) count(entry, old.bucketUs, old.status === 'broken', -1);
      if (r.startUs !== undefined) {
        kept.bucketUs = Math.floor(r.startUs / FLOW_BUCKET_US) * FLOW_BUCKET_US;
        count(entry, kept.bucketUs, r.status === 'broken', 1);
      }
      entry.broken.delete(r.traceId);
      if (r.status === 'broken') {
        const missing = r.steps.filter((s) => s.status === 'missing' || s.status === 'late').map(stepText);
        entry.broken.set(r.traceId, { traceId: r.traceId, atUs: r.startUs ?? 0, missing });
        entry.oldestBreak.trimTo(MAX_BROKEN_INSTANCES);
      }
      results.delete(r.traceId);
      results.set(r.traceId, kept);
      entry.oldestResult.trimTo(this.history);
    }
    return { pendingUntilUs };
  }

  views(): FlowView[] {
    return [...this.entries.values()].map(viewOf);
  }

  /**
   * One flow with its history (buckets of `bucketUs`, a multiple of a minute; default one minute)
   * and its recent broken instances; undefined for a flow not in force.
   */
  detail(name: string, bucketUs = FLOW_BUCKET_US): FlowDetail | undefined {
    const entry = this.entries.get(name);
    if (entry === undefined) return undefined;
    const merged = new Map<number, FlowBucket>();
    for (const [startUs, c] of entry.buckets) {
      const at = Math.floor(startUs / bucketUs) * bucketUs;
      const b = merged.get(at);
      if (b === undefined) merged.set(at, { startUs: at, instances: c.instances, broken: c.broken });
      else {
        b.instances += c.instances;
        b.broken += c.broken;
      }
    }
    return {
      flow: viewOf(entry),
      history: [...merged.values()].sort((a, b) => a.startUs - b.startUs),
      brokenInstances: [...entry.broken.values()].reverse().map((b) => ({ ...b, missing: [...b.missing] })),
    };
  }

  private refresh(): void {
    this.list = [...this.entries.values()].map((e) => e.contract);
    this.flowIndex = new FlowIndex(this.list);
  }

  private async save(): Promise<void> {
    if (this.apiFile === undefined || this.dir === undefined) return;
    const flows = [...this.entries.values()].filter((e) => e.source === 'api').map((e) => e.contract);
    await mkdir(this.dir, { recursive: true });
    const temp = `${this.apiFile}.tmp`;
    await writeFile(temp, `${JSON.stringify({ flows }, null, 2)}\n`);
    await rename(temp, this.apiFile);
  }
}

function viewOf(entry: FlowEntry): FlowView {
  const summary = summarizeFlow([...entry.results.values()]);
  summary.flow = entry.contract.name;
  return { contract: entry.contract, source: entry.source, summary };
}
