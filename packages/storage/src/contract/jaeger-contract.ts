/**
 * Contract: every search of Jaeger's storage integration suite (fixtures/jaeger/queries.json) finds
 * exactly its expected fixture traces, and each of those reads back as written. The fixtures are
 * OTLP JSON, decoded with the model's decoder; Jaeger's semantics map onto TraceQuery directly (tags
 * match span, event, link, scope and resource attributes of one span; durations are nanoseconds).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeOtlpJson } from '@linktrace/model';
import type { AttributeScalar, Span } from '@linktrace/model';
import type { SpanStore, TraceQuery } from '../types.js';
import type { ContractStore, CreateContractStore } from './contract-harness.js';
import { sortForCompare } from './contract-spans.js';

interface JaegerQuery {
  Caption: string;
  Query: {
    ServiceName: string;
    OperationName: string;
    Tags: Record<string, AttributeScalar> | null;
    StartTimeMin: string;
    StartTimeMax: string;
    DurationMin: number;
    DurationMax: number;
    NumTraces: number;
  };
  ExpectedFixtures: string[];
}

/** Where the shared fixtures sit: next to the repository (from dist/src/contract/ of this package). */
export const DEFAULT_FIXTURES_DIR = fileURLToPath(new URL('../../../../../../shared/fixtures/', import.meta.url));

/** RFC 3339 with up to nanosecond digits → µs since the epoch (Date.parse keeps only ms). */
export function rfc3339ToUs(text: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (m === null) throw new Error(`not an RFC 3339 time: ${text}`);
  const ms = Date.parse(`${m[1]}${m[3]}`);
  return ms * 1000 + Math.floor(Number(`0.${m[2] ?? '0'}`) * 1e6 + 1e-6);
}

/** Jaeger's query as a TraceQuery: empty text and zero durations mean "no filter". */
export function fromJaegerQuery(q: JaegerQuery['Query']): TraceQuery {
  const out: TraceQuery = { startUs: rfc3339ToUs(q.StartTimeMin), endUs: rfc3339ToUs(q.StartTimeMax), limit: q.NumTraces };
  if (q.ServiceName !== '') out.service = q.ServiceName;
  if (q.OperationName !== '') out.operation = q.OperationName;
  if (q.Tags !== null && Object.keys(q.Tags).length > 0) out.attributes = q.Tags;
  if (q.DurationMin > 0) out.minDurationUs = q.DurationMin / 1000;
  if (q.DurationMax > 0) out.maxDurationUs = q.DurationMax / 1000;
  return out;
}

function loadFixtures(dir: string): { queries: JaegerQuery[]; traces: Map<string, Span[]> } {
  const jaeger = `${dir.endsWith('/') ? dir : `${dir}/`}jaeger/`;
  if (!existsSync(`${jaeger}queries.json`)) throw new Error(`Jaeger fixtures missing under ${jaeger}`);
  const queries = JSON.parse(readFileSync(`${jaeger}queries.json`, 'utf8')) as JaegerQuery[];
  const traces = new Map<string, Span[]>();
  for (const file of readdirSync(`${jaeger}traces`).filter((f) => f.endsWith('.json')).sort()) {
    const decoded = decodeOtlpJson(JSON.parse(readFileSync(`${jaeger}traces/${file}`, 'utf8')));
    assert.equal(decoded.rejected, 0, `${file}: ${decoded.errors.join('; ')}`);
    traces.set(file.slice(0, -'.json'.length), decoded.spans);
  }
  return { queries, traces };
}

export function jaegerContract(create: CreateContractStore, fixturesDir = DEFAULT_FIXTURES_DIR): void {
  describe("Jaeger's storage integration queries", () => {
    const { queries, traces } = loadFixtures(fixturesDir);
    let handle: ContractStore;
    let store: SpanStore;
    before(async () => {
      handle = await create();
      store = handle.store;
      await store.writeSpans([...traces.values()].flat());
    });
    after(async () => {
      await store.close();
      await handle.dispose?.();
    });

    it('has every fixture a query expects', () => {
      assert.ok(queries.length >= 25, `only ${queries.length} queries`);
      for (const q of queries) for (const f of q.ExpectedFixtures) assert.ok(traces.has(f), `${q.Caption}: fixture ${f} missing`);
    });

    for (const q of queries) {
      it(q.Caption, async () => {
        const expected = q.ExpectedFixtures.map((f) => traces.get(f)!);
        const hits = await store.findTraces(fromJaegerQuery(q.Query));
        assert.deepStrictEqual(
          hits.map((h) => h.traceId).sort(),
          expected.map((spans) => spans[0]!.traceId).sort(),
        );
        for (const spans of expected) {
          assert.deepStrictEqual(sortForCompare(await store.getTrace(spans[0]!.traceId)), sortForCompare(spans));
        }
      });
    }
  });
}
