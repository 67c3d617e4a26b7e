/**
 * The flow contracts in force (from the --flows file and the API) and, per flow, the latest result
 * of the most recent instances, for `GET /api/v1/flows`. Contracts declared through the API are kept
 * in `<data>/checker/flows.json` so that a restart keeps them.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Span } from '@linktrace/model';
import { evaluateFlow, formatFlowError, parseFlows, summarizeFlow } from '@linktrace/analysis';
import type { FlowContract, FlowResult, FlowSummary } from '@linktrace/analysis';

export interface FlowView {
  contract: FlowContract;
  /** Where the contract was declared. */
  source: 'file' | 'api';
  summary: FlowSummary;
}

/** What a trace's flow results leave to do: the latest deadline still ahead, if any. */
export interface FlowOutcome {
  pendingUntilUs: number | undefined;
}

/** Only what a summary needs: the steps and findings of old results are not kept. */
type KeptResult = Pick<FlowResult, 'flow' | 'traceId' | 'status' | 'endToEndUs'> & { steps: never[]; findings: never[] };

interface FlowEntry {
  contract: FlowContract;
  source: 'file' | 'api';
  /** Latest result by trace id, oldest first. */
  results: Map<string, KeptResult>;
}

export class FlowRegistry {
  private readonly entries = new Map<string, FlowEntry>();
  private list: FlowContract[] = [];
  private readonly apiFile: string | undefined;
  /** Saves run one after the other: two declarations at once must not interleave their file writes. */
  private saving: Promise<void> = Promise.resolve();

  constructor(
    fileFlows: readonly FlowContract[],
    private readonly history: number,
    /** Where API-declared contracts are kept; none for an app without a data directory. */
    private readonly dir?: string,
  ) {
    for (const contract of fileFlows) this.entries.set(contract.name, { contract, source: 'file', results: new Map() });
    this.apiFile = dir === undefined ? undefined : join(dir, 'flows.json');
    this.refresh();
  }

  /** The contracts checked on every trace (a new array whenever they change: safe to hold during a check). */
  get contracts(): readonly FlowContract[] {
    return this.list;
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
    for (const contract of parsed.flows) this.entries.set(contract.name, { contract, source: 'api', results: new Map() });
    this.refresh();
  }

  /** Adds or replaces contracts (validated by the caller) and keeps the API-declared ones on disk. Returns the names that were new. */
  async declare(contracts: readonly FlowContract[]): Promise<string[]> {
    const created: string[] = [];
    for (const contract of contracts) {
      const old = this.entries.get(contract.name);
      if (old === undefined) created.push(contract.name);
      // A changed contract starts a new summary: old instances were judged by other rules.
      this.entries.set(contract.name, { contract, source: 'api', results: new Map() });
    }
    this.refresh();
    const saved = this.saving.then(() => this.save());
    this.saving = saved.catch(() => undefined);
    await saved;
    return created;
  }

  /** Evaluates every contract on one trace, records the results, and says whether a deadline is still ahead. */
  evaluate(spans: readonly Span[], nowUs: number): FlowOutcome {
    let pendingUntilUs: number | undefined;
    for (const entry of this.entries.values()) {
      const r = evaluateFlow(entry.contract, spans, nowUs);
      if (r.status === 'not-matched') continue;
      if (r.status === 'pending' && r.startUs !== undefined) {
        const until = r.startUs + entry.contract.deadlineMs * 1000;
        if (pendingUntilUs === undefined || until > pendingUntilUs) pendingUntilUs = until;
      }
      const kept: KeptResult = { flow: r.flow, traceId: r.traceId, status: r.status, steps: [], findings: [] };
      if (r.endToEndUs !== undefined) kept.endToEndUs = r.endToEndUs;
      const results = entry.results;
      results.delete(r.traceId);
      results.set(r.traceId, kept);
      if (results.size > this.history) results.delete(results.keys().next().value as string);
    }
    return { pendingUntilUs };
  }

  views(): FlowView[] {
    const out: FlowView[] = [];
    for (const entry of this.entries.values()) {
      const summary = summarizeFlow([...entry.results.values()]);
      summary.flow = entry.contract.name;
      out.push({ contract: entry.contract, source: entry.source, summary });
    }
    return out;
  }

  private refresh(): void {
    this.list = [...this.entries.values()].map((e) => e.contract);
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
