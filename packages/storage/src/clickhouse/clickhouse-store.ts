/**
 * The ClickHouse backend (DESIGN §6): the SpanStore interface over ClickHouse's HTTP interface, for
 * when one machine's embedded store is not enough. Tables and migrations: schema.ts.
 *
 * Writes are group-committed: `writeSpans` calls that arrive while an insert is running go
 * together in the next INSERT (ClickHouse wants few, large inserts: each makes a part). A call
 * resolves once its INSERT is acknowledged (with a cluster, by every shard it touched:
 * `insert_distributed_sync`). Reads merge a trace's records like every backend (record-merge.ts).
 * Deletions (retention, tail sampling) drop whole arrival-day partitions where they can and run
 * `ALTER … DELETE` mutations otherwise, waiting until the mutations are done, so their counts and
 * every later read agree.
 */
import { isValidTraceId } from '@linktrace/model';
import type { Span, SpanKind } from '@linktrace/model';
import { mergeRecords } from '../record-merge.js';
import { StorageInputError, StoreClosedError } from '../storage-error.js';
import { summarizeTrace } from '../trace-summary.js';
import type {
  DeletedRecords,
  DependencyLink,
  Finding,
  FindingFilter,
  Operation,
  RetentionResult,
  SdkDropReport,
  ServiceMapRow,
  SpanStore,
  StoreStats,
  TraceQuery,
  TraceSummary,
} from '../types.js';
import {
  validateFindingFilter,
  validateFindings,
  validateSdkDropReports,
  validateServiceName,
  validateSpans,
  validateTimeRange,
  validateTraceQuery,
} from '../validate.js';
import { replacedTraceIds } from '../embedded/findings-table.js';
import { ClickHouseHttp } from './http-client.js';
import type { ClickHouseEndpoint } from './http-client.js';
import { migrate, type MigrationLog } from './migrate.js';
import { ARRIVAL_DAY, hasTtl, localTable, SPAN_COLUMNS, SPAN_TABLES, summariesFromSpans, ttlStatements } from './schema.js';
import type { DataTable, Layout } from './schema.js';
import { dependencyLinks, serviceMapEdges } from './span-edges.js';
import { decodeRecord, encodeRecord, KIND_CODE, KV_SEP, searchPairs, STATUS_NUMBER, traceKey } from './span-record.js';
import { sqlString, tsvString, tsvStringArray } from './tsv.js';

export interface ClickHouseStoreOptions {
  /** The server queries go to: `http://host:8123`, with credentials. */
  endpoint: ClickHouseEndpoint;
  /** Database; created when missing. */
  database: string;
  /**
   * Cluster name (`<remote_servers>`): tables become `Distributed` over `<table>_local` on every
   * node. Schema changes run on each node in `nodes` (ClickHouse's `ON CLUSTER` needs ZooKeeper).
   */
  cluster?: string;
  /** The cluster's nodes' HTTP endpoints; default: the cluster's hosts from `system.clusters` at `endpoint`'s port and credentials. */
  nodes?: ClickHouseEndpoint[];
  /** Retention in days for table TTL where the server has TTL (19.6+); 18.16 relies on `deleteBefore`. */
  ttlDays?: number;
  /** The store's clock, ms since the epoch (arrival times, which retention counts from). Default `Date.now`. */
  clock?: () => number;
  log?: MigrationLog;
}

/** Ids per trace read (each one `trace_key IN (…)` query). */
const TRACE_IDS_PER_QUERY = 500;
/** Bounds that keep any number a valid Int64 literal (every stored time lies well inside). */
const TIME_LIMIT = 9e15;

function timeLiteral(v: number): string {
  return String(Math.round(Math.max(-TIME_LIMIT, Math.min(TIME_LIMIT, v))));
}

/** Keeps `>= x` / `<= x` exact for a fractional bound after rounding to integers. */
const lower = (v: number): string => timeLiteral(Math.ceil(v));
const upper = (v: number): string => timeLiteral(Math.floor(v));

const KINDS: readonly SpanKind[] = ['internal', 'server', 'client', 'producer', 'consumer'];

/** Findings as the reads see them: the latest row per key, tombstones left out. */
function liveFindingsSql(where: string): string {
  return (
    `SELECT trace_key, rule, span_id, argMax(record, seq) AS rec, argMax(deleted, seq) AS del, ` +
    `argMax(service, seq) AS svc, argMax(time_us, seq) AS t, max(seq) AS s FROM findings ${where} GROUP BY trace_key, rule, span_id`
  );
}

export class ClickHouseStore implements SpanStore {
  private closed = false;
  private readonly inflight = new Set<Promise<unknown>>();
  private pending: { rows: string; done: { resolve: () => void; reject: (e: unknown) => void }[] } | undefined;
  private inserting: Promise<void> | undefined;
  private lastSeq = 0;
  /** The last span insert's failure; cleared by the next insert that succeeds. */
  private downReason: string | undefined;
  private readonly nowUs: () => number;

  private constructor(
    private readonly http: ClickHouseHttp,
    private readonly nodes: ClickHouseHttp[],
    private readonly layout: Layout,
    clock: () => number,
  ) {
    this.nowUs = () => Math.floor(clock() * 1000);
  }

  static async open(options: ClickHouseStoreOptions): Promise<ClickHouseStore> {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.database)) throw new TypeError(`clickhouse store: database "${options.database}" must be an identifier`);
    if (options.cluster !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.cluster)) throw new TypeError(`clickhouse store: cluster "${options.cluster}" must be an identifier`);
    const layout: Layout = { database: options.database, cluster: options.cluster };
    const root = new ClickHouseHttp(options.endpoint);
    const nodeEndpoints = options.cluster === undefined ? [options.endpoint] : (options.nodes ?? (await clusterNodes(root, options.cluster, options.endpoint)));
    for (const endpoint of nodeEndpoints) {
      const node = new ClickHouseHttp(endpoint);
      await node.command(`CREATE DATABASE IF NOT EXISTS ${options.database}`);
      const db = new ClickHouseHttp(endpoint, options.database);
      await migrate(db, layout, options.log);
      if (options.ttlDays !== undefined && options.ttlDays > 0) {
        const version = String((await db.rows('SELECT version()'))[0]![0]);
        if (hasTtl(version)) for (const sql of ttlStatements(layout, options.ttlDays)) await db.command(sql);
      }
    }
    const nodes = nodeEndpoints.map((e) => new ClickHouseHttp(e, options.database));
    return new ClickHouseStore(new ClickHouseHttp(options.endpoint, options.database), nodes, layout, options.clock ?? Date.now);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  /** Runs a read, tracked so that `close` waits for it. */
  private async read<T>(fn: () => Promise<T>): Promise<T> {
    this.assertOpen();
    const p = fn();
    this.inflight.add(p);
    try {
      return await p;
    } finally {
      this.inflight.delete(p);
    }
  }

  /** A sequence number above every earlier one of this process, near the wall clock across processes. */
  private nextSeq(): number {
    this.lastSeq = Math.max(this.lastSeq + 1, Date.now() * 1000);
    return this.lastSeq;
  }

  writeSpans(spans: readonly Span[], options?: { arrivedUs?: number }): Promise<void> {
    let rows = '';
    try {
      this.assertOpen();
      validateSpans(spans);
      const given = options?.arrivedUs;
      if (given !== undefined && !(Number.isSafeInteger(given) && given >= 0)) {
        throw new RangeError(`clickhouse store: arrivedUs must be a non-negative safe integer (µs), got ${String(given)}`);
      }
      const arrived = String(given ?? this.nowUs());
      for (const s of spans) rows += spanRow(s, arrived);
    } catch (err) {
      return Promise.reject(err);
    }
    if (rows === '') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      if (this.pending === undefined) this.pending = { rows, done: [{ resolve, reject }] };
      else {
        this.pending.rows += rows;
        this.pending.done.push({ resolve, reject });
      }
      if (this.inserting === undefined) this.inserting = this.drain();
    });
  }

  /** Inserts waiting batches one INSERT at a time until none wait (group commit). */
  private async drain(): Promise<void> {
    while (this.pending !== undefined) {
      const batch = this.pending;
      this.pending = undefined;
      try {
        await this.http.insertTsv('spans_in', SPAN_COLUMNS, batch.rows, this.insertSettings());
        this.downReason = undefined;
        for (const d of batch.done) d.resolve();
      } catch (err) {
        this.downReason = err instanceof Error ? err.message : String(err);
        for (const d of batch.done) d.reject(err);
      }
    }
    this.inserting = undefined;
  }

  private insertSettings(): Record<string, string> {
    // A Distributed insert acknowledges only once every shard has the rows (else it queues them on disk).
    return this.layout.cluster === undefined ? {} : { insert_distributed_sync: '1' };
  }

  async getTrace(traceId: string): Promise<Span[]> {
    return (await this.getTraces([traceId]))[0]!;
  }

  async getTraces(traceIds: readonly string[]): Promise<Span[][]> {
    this.assertOpen();
    const ids = Array.isArray(traceIds) ? traceIds : [];
    const byKey = await this.readRecords(ids.filter((id) => isValidTraceId(id, true)).map(traceKey));
    return ids.map((id) => {
      const list = isValidTraceId(id, true) ? byKey.get(traceKey(id)) : undefined;
      return list === undefined ? [] : sortSpans(mergeRecords(list));
    });
  }

  /** The records of the traces with these keys, in arrival order. */
  private async readRecords(keys: readonly string[]): Promise<Map<string, Span[]>> {
    const wanted = [...new Set(keys)];
    const byKey = new Map<string, Span[]>();
    for (let i = 0; i < wanted.length; i += TRACE_IDS_PER_QUERY) {
      const chunk = wanted.slice(i, i + TRACE_IDS_PER_QUERY);
      const rows = await this.read(() =>
        this.http.rows(`SELECT trace_key, arrived_us, record FROM spans WHERE trace_key IN (${chunk.map(sqlString).join(', ')}) ORDER BY arrived_us`),
      );
      for (const r of rows) {
        const key = r[0] as string;
        let list = byKey.get(key);
        if (list === undefined) byKey.set(key, (list = []));
        list.push(decodeRecord(r[2] as string));
      }
    }
    return byKey;
  }

  async findTraces(query: TraceQuery): Promise<TraceSummary[]> {
    this.assertOpen();
    const q = validateTraceQuery(query);
    const where: string[] = [];
    if (q.service !== undefined) where.push(`service = ${sqlString(q.service)}`);
    if (q.operation !== undefined) where.push(`name = ${sqlString(q.operation)}`);
    if (q.status !== undefined) where.push(`status = ${STATUS_NUMBER[q.status]}`);
    // duration_us is -1 on records without a duration: they never meet a duration bound.
    if (q.minDurationUs !== undefined) where.push(`duration_us >= ${lower(q.minDurationUs)}`);
    if (q.maxDurationUs !== undefined) where.push(`duration_us >= 0 AND duration_us <= ${upper(q.maxDurationUs)}`);
    if (q.startUs !== undefined) where.push(`start_us >= ${lower(q.startUs)}`);
    if (q.endUs !== undefined) where.push(`start_us <= ${upper(q.endUs)}`);
    for (const [key, value] of q.attributeList) where.push(`has(attr_kv, ${sqlString(key + KV_SEP + String(value))})`);
    if (q.hasFindings !== undefined) {
      where.push(`trace_key ${q.hasFindings ? 'GLOBAL IN' : 'GLOBAL NOT IN'} (SELECT trace_key FROM (${liveFindingsSql('')}) WHERE del = 0)`);
    }
    // The traces whose newest matching span is newest; then each summarised from its merged records.
    // Without span conditions every span matches: the per-trace summaries rank them (one row per trace and day).
    const spanConditions = where.length - (q.hasFindings === undefined ? 0 : 1);
    const sql =
      spanConditions === 0
        ? `SELECT trace_key, maxMerge(newest) AS n FROM trace_summaries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ` +
          `GROUP BY trace_key ORDER BY n DESC, trace_key DESC LIMIT ${q.limit}`
        : `SELECT trace_key, max(start_us) AS newest FROM span_index WHERE ${where.join(' AND ')} ` +
          `GROUP BY trace_key ORDER BY newest DESC, trace_key DESC LIMIT ${q.limit}`;
    const keys = (await this.read(() => this.http.rows(sql))).map((r) => r[0] as string);
    const records = await this.readRecords(keys);
    const counts = await this.findingCounts(keys);
    const out: TraceSummary[] = [];
    for (const key of keys) {
      const list = records.get(key);
      if (list === undefined) continue;
      const merged = mergeRecords(list);
      const summary = summarizeTrace(
        list[0]!.traceId,
        merged.map((s) => ({
          spanId: s.spanId,
          kind: s.kind,
          service: s.service,
          name: s.name,
          hasParent: s.parentSpanId !== undefined,
          startUs: s.startUs,
          durationUs: s.durationUs,
          startUnknown: s.startUnknown,
          error: s.status.code === 'error',
        })),
      );
      summary.findingCount = counts.get(key) ?? 0;
      out.push(summary);
    }
    return out.sort((a, b) => b.startUs - a.startUs || (a.traceId < b.traceId ? 1 : a.traceId > b.traceId ? -1 : 0));
  }

  private async findingCounts(keys: readonly string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (let i = 0; i < keys.length; i += TRACE_IDS_PER_QUERY) {
      const chunk = keys.slice(i, i + TRACE_IDS_PER_QUERY);
      const where = `WHERE trace_key IN (${chunk.map(sqlString).join(', ')})`;
      const rows = await this.read(() => this.http.rows(`SELECT trace_key, count() FROM (${liveFindingsSql(where)}) WHERE del = 0 GROUP BY trace_key`));
      for (const r of rows) counts.set(r[0] as string, Number(r[1]));
    }
    return counts;
  }

  async services(): Promise<string[]> {
    const rows = await this.read(() => this.http.rows(`SELECT DISTINCT service FROM span_index`));
    return rows.map((r) => r[0] as string).sort();
  }

  async operations(service: string, kind?: SpanKind): Promise<Operation[]> {
    this.assertOpen();
    validateServiceName(service, kind);
    const kindTest = kind === undefined ? '' : ` AND kind = ${KIND_CODE[kind]}`;
    const rows = await this.read(() => this.http.rows(`SELECT DISTINCT name, kind FROM span_index WHERE service = ${sqlString(service)}${kindTest}`));
    return rows
      .map((r) => ({ name: r[0] as string, kind: KINDS[Number(r[1])]! }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
  }

  /** The span records that start within [startUs, endUs]. */
  private async windowRecords(startUs: number, endUs: number): Promise<Span[]> {
    const rows = await this.read(() =>
      this.http.rows(`SELECT record FROM spans WHERE start_us >= ${lower(startUs)} AND start_us <= ${upper(endUs)} ORDER BY arrived_us`),
    );
    return rows.map((r) => decodeRecord(r[0] as string));
  }

  async dependencies(startUs: number, endUs: number): Promise<DependencyLink[]> {
    this.assertOpen();
    validateTimeRange(startUs, endUs);
    return dependencyLinks(await this.windowRecords(startUs, endUs));
  }

  async serviceMapRows(startUs: number, endUs: number): Promise<ServiceMapRow[]> {
    this.assertOpen();
    validateTimeRange(startUs, endUs);
    return serviceMapEdges(await this.windowRecords(startUs, endUs));
  }

  writeFindings(findings: readonly Finding[]): Promise<void> {
    try {
      this.assertOpen();
      validateFindings(findings);
    } catch (err) {
      return Promise.reject(err);
    }
    if (findings.length === 0) return Promise.resolve();
    return this.track(this.insertFindings(findings.map((f) => findingRow(f, this.nextSeq(), false))));
  }

  private insertFindings(rows: string[]): Promise<void> {
    return this.http.insertTsv('findings', ['trace_key', 'rule', 'span_id', 'service', 'time_us', 'record', 'seq', 'deleted'], rows.join(''), this.insertSettings());
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p)).catch(() => undefined);
    return p;
  }

  replaceFindings(traceIds: readonly string[], findings: readonly Finding[]): Promise<void> {
    let ids: string[];
    try {
      this.assertOpen();
      validateFindings(findings);
      ids = replacedTraceIds(traceIds, findings);
    } catch (err) {
      return Promise.reject(err);
    }
    if (ids.length === 0) return Promise.resolve();
    return this.track(
      (async () => {
        // Tombstones for the stored findings the new set leaves out, then the new set, in one insert.
        const keys = [...new Set(ids.map(traceKey))];
        const kept = new Set(findings.map((f) => `${traceKey(f.traceId)}\n${f.rule}\n${f.spanId}`));
        const rows: string[] = [];
        for (let i = 0; i < keys.length; i += TRACE_IDS_PER_QUERY) {
          const where = `WHERE trace_key IN (${keys.slice(i, i + TRACE_IDS_PER_QUERY).map(sqlString).join(', ')})`;
          const live = await this.http.rows(`SELECT trace_key, rule, span_id, svc, t FROM (${liveFindingsSql(where)}) WHERE del = 0`);
          for (const r of live) {
            if (kept.has(`${String(r[0])}\n${String(r[1])}\n${String(r[2])}`)) continue;
            rows.push(
              [r[0], r[1], r[2], r[3], r[4], '', this.nextSeq(), 1].map((v) => tsvString(String(v))).join('\t') + '\n',
            );
          }
        }
        for (const f of findings) rows.push(findingRow(f, this.nextSeq(), false));
        if (rows.length > 0) await this.insertFindings(rows);
      })(),
    );
  }

  async findFindings(filter?: FindingFilter): Promise<Finding[]> {
    this.assertOpen();
    const f = validateFindingFilter(filter);
    const inner: string[] = [];
    if (f.traceId !== undefined) {
      if (!isValidTraceId(f.traceId, true)) return [];
      inner.push(`trace_key = ${sqlString(traceKey(f.traceId))}`);
    }
    if (f.rule !== undefined) inner.push(`rule = ${sqlString(f.rule)}`);
    const outer = ['del = 0'];
    if (f.service !== undefined) outer.push(`svc = ${sqlString(f.service)}`);
    if (f.startUs !== undefined) outer.push(`t >= ${lower(f.startUs)}`);
    if (f.endUs !== undefined) outer.push(`t <= ${upper(f.endUs)}`);
    const sql = `SELECT rec FROM (${liveFindingsSql(inner.length ? `WHERE ${inner.join(' AND ')}` : '')}) WHERE ${outer.join(' AND ')} ORDER BY t DESC, s DESC LIMIT ${f.limit}`;
    const rows = await this.read(() => this.http.rows(sql));
    return rows.map((r) => JSON.parse(r[0] as string) as Finding);
  }

  recordSdkDrops(reports: readonly SdkDropReport[]): Promise<void> {
    try {
      this.assertOpen();
      validateSdkDropReports(reports);
    } catch (err) {
      return Promise.reject(err);
    }
    if (reports.length === 0) return Promise.resolve();
    const rows = reports
      .map((r) => [tsvString(r.service), tsvString(r.instance), upper(r.reportedUs), String(r.droppedSpans), String(this.nextSeq())].join('\t') + '\n')
      .join('');
    return this.track(this.http.insertTsv('sdk_drops', ['service', 'instance', 'reported_us', 'dropped_spans', 'seq'], rows, this.insertSettings()));
  }

  async sdkDrops(): Promise<SdkDropReport[]> {
    // Per (service, instance) the report received last; of two received at once, the one written last.
    const rows = await this.read(() =>
      this.http.rows(`SELECT service, instance, argMax(dropped_spans, reported_us * 1000000 + seq % 1000000), max(reported_us) FROM sdk_drops GROUP BY service, instance`),
    );
    return rows
      .map((r) => ({ service: r[0] as string, instance: r[1] as string, droppedSpans: Number(r[2]), reportedUs: Number(r[3]) }))
      .sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0));
  }

  deleteBefore(us: number): Promise<RetentionResult> {
    try {
      this.assertOpen();
      validateTimeRange(us, us);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.track(
      (async () => {
        const removed = await this.deleteSpans(`arrived_us < ${lower(us)}`, us);
        return { ...removed, sdkDropReports: await this.deleteSdkDropsBefore(us) };
      })(),
    );
  }

  /** Retention of SDK drop reports: those received before `us` go; counted per (service, instance) whose latest report is older. */
  private async deleteSdkDropsBefore(us: number): Promise<number> {
    const [row] = await this.http.rows(
      `SELECT countIf(latest < ${lower(us)}), countIf(oldest < ${lower(us)}) FROM ` +
        `(SELECT max(reported_us) AS latest, min(reported_us) AS oldest FROM sdk_drops GROUP BY service, instance)`,
    );
    // Older reports of an instance whose latest is kept go too (reads never show them), uncounted.
    if (Number(row![1]) > 0) await this.mutate('sdk_drops', `DELETE WHERE reported_us < ${lower(us)}`);
    return Number(row![0]);
  }

  /**
   * Tail sampling: removes every span record of these traces and their findings; unknown ids are
   * ignored.
   */
  deleteTraces(traceIds: readonly string[]): Promise<DeletedRecords> {
    try {
      this.assertOpen();
      if (!Array.isArray(traceIds)) throw new StorageInputError('invalid_query', 'traceIds', 'traceIds must be an array');
    } catch (err) {
      return Promise.reject(err);
    }
    // Malformed ids name no stored trace: ignored, as reads ignore them.
    const keys = [...new Set(traceIds.filter((id) => isValidTraceId(id, true)).map(traceKey))];
    if (keys.length === 0) return Promise.resolve({ spans: 0, findings: 0 });
    return this.track(this.deleteSpans(`trace_key IN (${keys.map(sqlString).join(', ')})`));
  }

  /**
   * Removes the span records matching `condition`, then the findings of every trace left without
   * records. With `beforeUs` (retention), arrival days wholly before it go by DROP PARTITION first.
   */
  private async deleteSpans(condition: string, beforeUs?: number): Promise<DeletedRecords> {
    await this.inserting;
    const count = async (): Promise<number> => Number((await this.http.rows(`SELECT count() FROM spans WHERE ${condition}`))[0]![0]);
    const spans = await count();
    if (spans > 0) {
      if (beforeUs !== undefined) await this.dropDaysBefore(beforeUs);
      if ((await count()) > 0) {
        await this.mutate('spans', `DELETE WHERE ${condition}`);
        await this.mutate('span_index', `DELETE WHERE ${condition}`);
        if (beforeUs === undefined) await this.mutate('trace_summaries', `DELETE WHERE ${condition}`);
        else await this.rebuildSummaryDay(beforeUs);
      }
    }
    const orphans = await this.http.rows(
      `SELECT DISTINCT trace_key FROM (${liveFindingsSql('')}) WHERE del = 0 AND trace_key GLOBAL NOT IN (SELECT trace_key FROM spans)`,
    );
    let findings = 0;
    for (let i = 0; i < orphans.length; i += TRACE_IDS_PER_QUERY) {
      const list = orphans.slice(i, i + TRACE_IDS_PER_QUERY).map((r) => sqlString(r[0] as string)).join(', ');
      findings += Number((await this.http.rows(`SELECT count() FROM (${liveFindingsSql(`WHERE trace_key IN (${list})`)}) WHERE del = 0`))[0]![0]);
      await this.mutate('findings', `DELETE WHERE trace_key IN (${list})`);
    }
    return { spans, findings };
  }

  /** The arrival day (partition) of `us`, by the server's time zone as the partition key computes it. */
  private async arrivalDay(us: number): Promise<number> {
    return Number((await this.http.rows(`SELECT toYYYYMMDD(toDateTime(intDiv(${lower(us)}, 1000000)))`))[0]![0]);
  }

  /** After part of an arrival day was deleted: that day's trace summaries made again from the spans left. */
  private async rebuildSummaryDay(us: number): Promise<void> {
    const day = await this.arrivalDay(us);
    const table = localTable(this.layout, 'trace_summaries');
    for (const node of this.nodes) {
      await node.command(`ALTER TABLE ${table} DROP PARTITION ${day}`);
      await node.command(summariesFromSpans(this.layout, `${ARRIVAL_DAY} = ${day}`));
    }
  }

  /** Drops the arrival-day partitions of the span tables that lie wholly before `us`, on every node. */
  private async dropDaysBefore(us: number): Promise<void> {
    const day = await this.arrivalDay(us);
    for (const node of this.nodes) {
      for (const name of SPAN_TABLES) {
        const table = localTable(this.layout, name);
        const parts = await node.rows(
          `SELECT DISTINCT partition FROM system.parts WHERE database = ${sqlString(this.layout.database)} AND table = ${sqlString(table)} AND active`,
        );
        for (const [p] of parts) {
          if (Number(p) < day) await node.command(`ALTER TABLE ${table} DROP PARTITION ${Number(p)}`);
        }
      }
    }
  }

  /**
   * Runs an ALTER mutation on `table` on every node and waits until it is done (18.16 has no
   * `mutations_sync`, added in 19.x; polling `system.mutations` works on every version).
   */
  private async mutate(name: DataTable, mutation: string): Promise<void> {
    const table = localTable(this.layout, name);
    for (const node of this.nodes) await node.command(`ALTER TABLE ${table} ${mutation}`);
    for (const node of this.nodes) {
      for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
        const [row] = await node.rows(
          `SELECT count() FROM system.mutations WHERE database = ${sqlString(this.layout.database)} AND table = ${sqlString(table)} AND is_done = 0`,
        );
        if (Number(row![0]) === 0) break;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  async stats(): Promise<StoreStats> {
    const spanRecords = Number((await this.read(() => this.http.rows(`SELECT count() FROM spans`)))[0]![0]);
    const findings = Number((await this.read(() => this.http.rows(`SELECT count() FROM (${liveFindingsSql('')}) WHERE del = 0`)))[0]![0]);
    let diskBytes = 0;
    for (const node of this.nodes) {
      const [row] = await this.read(() => node.rows(`SELECT sum(bytes) FROM system.parts WHERE database = ${sqlString(this.layout.database)} AND active`));
      diskBytes += Number(row![0]);
    }
    return { spanRecords, findings, diskBytes };
  }

  /** Why span inserts fail now (ClickHouse went away), undefined while they succeed: the server answers ingest with 503 meanwhile. */
  unavailableReason(): string | undefined {
    return this.downReason;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.inserting;
    await Promise.allSettled([...this.inflight]);
  }
}

/** One `spans` row (TabSeparated, SPAN_COLUMNS order). */
function spanRow(s: Span, arrived: string): string {
  return (
    traceKey(s.traceId) + '\t' + s.spanId + '\t' + (s.parentSpanId ?? '') + '\t' + KIND_CODE[s.kind] + '\t' +
    tsvString(s.service) + '\t' + tsvString(s.name) + '\t' + (s.startUnknown === true ? 0 : Math.floor(s.startUs)) + '\t' +
    (s.durationUs === undefined ? -1 : Math.floor(s.durationUs)) + '\t' + STATUS_NUMBER[s.status.code] + '\t' +
    tsvStringArray(searchPairs(s)) + '\t' + arrived + '\t' + tsvString(encodeRecord(s)) + '\n'
  );
}

/** The stored form of a finding: its known fields only, in a fixed order. */
function findingRow(f: Finding, seq: number, deleted: boolean): string {
  const stored: Finding = { traceId: f.traceId, rule: f.rule, service: f.service, spanId: f.spanId, message: f.message, timeUs: f.timeUs };
  if (f.entity !== undefined) {
    stored.entity = { type: f.entity.type, key: f.entity.key };
    if (f.entity.version !== undefined) stored.entity.version = f.entity.version;
  }
  if (f.target !== undefined) stored.target = f.target;
  if (f.rpcid !== undefined) stored.rpcid = f.rpcid;
  return (
    [traceKey(f.traceId), f.rule, f.spanId, f.service, upper(f.timeUs), JSON.stringify(stored), String(seq), deleted ? '1' : '0']
      .map(tsvString)
      .join('\t') + '\n'
  );
}

function sortSpans(spans: Span[]): Span[] {
  return spans.sort(
    (a, b) =>
      a.startUs - b.startUs || (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0) || KIND_CODE[b.kind] - KIND_CODE[a.kind],
  );
}

/** The cluster's nodes as HTTP endpoints: its hosts at `like`'s port and credentials. */
async function clusterNodes(root: ClickHouseHttp, cluster: string, like: ClickHouseEndpoint): Promise<ClickHouseEndpoint[]> {
  const rows = await root.rows(`SELECT DISTINCT host_name FROM system.clusters WHERE cluster = ${sqlString(cluster)}`);
  if (rows.length === 0) throw new Error(`clickhouse store: the server at ${like.url} has no cluster "${cluster}" in <remote_servers>`);
  const port = new URL(like.url).port || '8123';
  return rows.map((r) => ({ ...like, url: `http://${String(r[0])}:${port}` }));
}

export function openClickHouseStore(options: ClickHouseStoreOptions): Promise<ClickHouseStore> {
  return ClickHouseStore.open(options);
}
