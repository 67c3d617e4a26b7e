/**
 * Query latencies over the server's HTTP API once everything is stored: one request at a time
 * (latency, not throughput), a few warm-up requests per kind first, inputs drawn at random from
 * what was sent. A trace that was sent must be found; an attribute value that was sent must find
 * at least one trace: anything else fails the run instead of timing a wrong answer.
 */
import type { QuerySamples } from './ingest-batches.js';
import { httpRequest, keepAliveAgent } from './ingest-http.js';
import { Random } from './ingest-random.js';
import { percentile } from './stats.js';

export interface QueryTiming {
  name: string;
  runs: number;
  p50: number;
  p99: number;
  max: number;
  /** Mean number of traces (or spans, for a trace lookup) per answer. */
  meanHits: number;
}

export type QueryKind = 'traceById' | 'zipkinTraceById' | 'serviceOperation' | 'attribute' | 'serviceError';

const WARMUP = 5;

interface Query {
  path: string;
  /** Fails the run when the answer does not have at least one hit. */
  mustFind: boolean;
}

function hitsOf(kind: QueryKind, body: unknown): number {
  if (kind === 'traceById') return (body as { spans?: unknown[] }).spans?.length ?? 0;
  if (kind === 'zipkinTraceById') return (body as unknown[]).length;
  return (body as { traces: unknown[] }).traces.length;
}

export class QueryBench {
  private readonly agent = keepAliveAgent(1);
  private readonly r: Random;

  constructor(
    private readonly url: string,
    private readonly samples: QuerySamples,
    seed: number,
  ) {
    this.r = new Random(seed);
  }

  private query(kind: QueryKind): Query {
    const r = this.r;
    const s = this.samples;
    const enc = encodeURIComponent;
    switch (kind) {
      case 'traceById':
        return { path: `/api/v1/traces/${r.pick(s.traceIds)}`, mustFind: true };
      case 'zipkinTraceById':
        return { path: `/api/v2/trace/${r.pick(s.traceIds)}`, mustFind: true };
      case 'serviceOperation': {
        const [service, operation] = r.pick(s.operations);
        return { path: `/api/v1/traces?service=${enc(service)}&operation=${enc(operation)}&limit=20`, mustFind: true };
      }
      case 'attribute': {
        // Half the lookups by a record's key (a sync chain), half by a user id (storefront requests).
        const [key, value] = r.chance(0.5) || s.userIds.length === 0 ? ['linktrace.entity.key', r.pick(s.entityKeys)] : ['user.id', r.pick(s.userIds)];
        return { path: `/api/v1/traces?attr=${enc(`${key}=${value}`)}&limit=20`, mustFind: true };
      }
      case 'serviceError': {
        const [service] = r.pick(s.operations);
        return { path: `/api/v1/traces?service=${enc(service)}&status=error&limit=20`, mustFind: false };
      }
    }
  }

  /** Runs `runs` queries of one kind (after the warm-up) and summarises their latency. */
  async measure(name: string, kind: QueryKind, runs: number): Promise<QueryTiming> {
    const ms: number[] = [];
    let hits = 0;
    for (let i = 0; i < WARMUP + runs; i++) {
      const q = this.query(kind);
      const t0 = performance.now();
      const answer = await httpRequest(this.agent, new URL(q.path, this.url), 'GET', { accept: 'application/json' });
      const elapsed = performance.now() - t0;
      if (answer.status !== 200) throw new Error(`GET ${q.path} answered ${answer.status}: ${answer.body.toString('utf8').slice(0, 300)}`);
      const n = hitsOf(kind, JSON.parse(answer.body.toString('utf8')));
      if (q.mustFind && n === 0) throw new Error(`GET ${q.path} found nothing, but what it asks for was sent`);
      if (i < WARMUP) continue;
      ms.push(elapsed);
      hits += n;
    }
    return { name, runs, p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.max(...ms), meanHits: hits / runs };
  }

  close(): void {
    this.agent.destroy();
  }
}
