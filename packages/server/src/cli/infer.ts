/**
 * `linktrace infer <logs> [--out links.jsonl] [--server URL]`: black-box inference from access logs
 * (docs/inference.md). Reads the file as a stream (never whole), writes one line per `in` record
 * (`{"record", "parent", "confidence"}`), reports what it could not use with line numbers, prints
 * the inferred dependency graph, and with `--server` sends the inferred traces as spans marked
 * `linktrace.inferred`.
 */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { once } from 'node:events';
import { Option, type Command } from 'commander';
import type { Span } from '@linktrace/model';
import { InferredGraph, LinkInferrer, type EmittedCall, type EmittedLink, type InferenceReport, type LogRecord } from '@linktrace/analysis';
import { ACCESS_LOG_FORMATS, detectFormat, type AccessLogFormat, type LineResult, type LogSource } from '../import/access-log/access-log-format.js';
import { parseEnvoyLine } from '../import/access-log/envoy-line.js';
import { parseJsonlLine } from '../import/access-log/jsonl-line.js';
import { parseNginxLine } from '../import/access-log/nginx-line.js';
import { parseSdkJsonLine } from '../import/access-log/sdk-json-line.js';
import { HttpSink } from '../import/http-sink.js';
import { readLines } from '../import/line-reader.js';
import { parseDuration } from '../config.js';
import { processIo, type CliIo, type OutputStream } from './cli-io.js';
import { serverUrl } from './data-source-options.js';
import { InferredSpans } from './infer-spans.js';
import { RecentByLine } from './recent-by-line.js';

export interface InferFlags {
  out?: string;
  server?: string;
  token?: string;
  format?: AccessLogFormat;
  service?: string;
  instance?: string;
  window?: string;
  maxSkew?: string;
}

/** Problem lines listed by number in the report; the rest are counted. */
const LISTED_PROBLEMS = 20;
const SPAN_BATCH = 1000;
/** Instance → service names remembered (to name the callee of an unanswered call); bounded. */
const MAX_INSTANCES = 10_000;
/** `in` lines whose service is remembered, for naming a link's caller (emitted links' parents are recent). */
const RECENT_LINES = 200_000;

interface Problems {
  count: number;
  listed: string[];
}

function note(p: Problems, text: string): void {
  p.count++;
  if (p.listed.length < LISTED_PROBLEMS) p.listed.push(text);
}

function us(v: number): string {
  return v >= 1000 ? `${(v / 1000).toFixed(v >= 100_000 ? 0 : 1)} ms` : `${v} µs`;
}

/** Writes and waits when the stream is full, so a large output never piles up in memory. */
class Writer {
  private pending: string[] = [];
  private size = 0;

  constructor(private readonly stream: NodeJS.WritableStream | OutputStream) {}

  add(line: string): void {
    this.pending.push(line);
    this.size += line.length;
  }

  /** A promise only when there was something to wait for: no promise per line. */
  flushIfFull(): Promise<void> | undefined {
    return this.size >= 64 * 1024 ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.size = 0;
    const ok = this.stream.write(text);
    if (ok === false && 'once' in this.stream) await once(this.stream as NodeJS.WritableStream, 'drain');
  }
}

function parserFor(format: Exclude<AccessLogFormat, 'auto'>, source: LogSource): (line: string) => LineResult {
  switch (format) {
    case 'jsonl':
      return parseJsonlLine;
    case 'nginx':
      return (line) => parseNginxLine(line, source);
    case 'envoy':
      return (line) => parseEnvoyLine(line, source);
    case 'sdk':
      return (line) => parseSdkJsonLine(line, source);
  }
}

export function formatInferReport(
  file: string,
  lines: number,
  report: InferenceReport,
  malformed: Problems,
  skipped: Problems,
  unknownFields: Map<string, number>,
  graph: InferredGraph,
  sent: { spans: number; rejected: number } | undefined,
): string {
  const out: string[] = [];
  out.push(`linktrace infer: ${file}: ${lines} lines, ${report.records} records (${report.ins} in, ${report.outs} out)`);
  out.push(`  inferred: ${report.linked} links, ${report.roots} roots; at most ${report.peakHeld} records held at once`);
  if (malformed.count > 0) {
    out.push(`  ${malformed.count} malformed line${malformed.count === 1 ? '' : 's'} skipped (line numbers count from 1):`);
    for (const l of malformed.listed) out.push(`    ${l}`);
    if (malformed.count > malformed.listed.length) out.push(`    … and ${malformed.count - malformed.listed.length} more`);
  }
  if (skipped.count > 0) {
    out.push(`  ${skipped.count} line${skipped.count === 1 ? '' : 's'} not about a request, skipped:`);
    for (const l of skipped.listed.slice(0, 5)) out.push(`    ${l}`);
  }
  if (unknownFields.size > 0) out.push(`  unknown fields ignored: ${[...unknownFields].map(([k, n]) => `${k} (${n} line${n === 1 ? '' : 's'})`).join(', ')}`);
  if (report.duplicates > 0) out.push(`  ${report.duplicates} duplicate record${report.duplicates === 1 ? '' : 's'} (same as an earlier line): given the earlier line's answer`);
  if (report.late > 0) out.push(`  ${report.late} record${report.late === 1 ? '' : 's'} arrived after their time window was decided (input out of order by more than --window), decided as roots; first lines (from 0): ${report.lateLines.join(', ')}`);
  if (report.farAhead > 0) {
    out.push(`  ${report.farAhead} record${report.farAhead === 1 ? '' : 's'} from clocks far ahead of the others, decided as roots: ${Object.entries(report.farAheadHosts).map(([h, n]) => `${h} (${n})`).join(', ')}`);
  }
  if (report.longerThanWindow > 0) out.push(`  ${report.longerThanWindow} record${report.longerThanWindow === 1 ? ' is' : 's are'} longer than --window: their calls may have been decided without them`);
  const offsets = Object.entries(report.hostOffsetsUs).filter(([, v]) => Math.abs(v) >= 100);
  if (offsets.length > 0) out.push(`  clock offsets found: ${offsets.map(([h, v]) => `${h} ${v >= 0 ? '+' : '−'}${us(Math.abs(v))}`).join(', ')}`);
  const edges = graph.rows();
  if (edges.length > 0) {
    out.push('  dependency graph (inferred):');
    const rows = edges.map((e) => [`${e.from} → ${e.to}${e.silentCallee ? ' (does not log)' : ''}`, String(e.calls), String(e.errors), us(e.p50Us), us(e.p99Us), e.confidence.toFixed(2)]);
    const head = ['edge', 'calls', 'errors', 'p50', 'p99', 'confidence'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const fmt = (r: string[]): string => `    ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
    out.push(fmt(head));
    for (const r of rows) out.push(fmt(r));
  }
  if (sent !== undefined) out.push(`  sent ${sent.spans} spans marked linktrace.inferred=true${sent.rejected > 0 ? `, ${sent.rejected} rejected by the server` : ''}`);
  return `${out.join('\n')}\n`;
}

export async function inferCommand(file: string, flags: InferFlags, io: CliIo): Promise<number> {
  let windowUs: number | undefined;
  let maxSkewUs: number | undefined;
  let server: string | undefined;
  try {
    if (flags.window !== undefined) windowUs = parseDuration(flags.window, '--window') * 1000;
    if (flags.maxSkew !== undefined) maxSkewUs = parseDuration(flags.maxSkew, '--max-skew') * 1000;
    if (flags.server !== undefined) server = serverUrl(flags.server);
    if (windowUs !== undefined && !(windowUs >= 1000)) throw new Error('--window must be at least 1ms');
  } catch (err) {
    io.stderr.write(`linktrace infer: ${(err as Error).message}\n`);
    return 2;
  }
  let size = 0;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch (err) {
    io.stderr.write(`linktrace infer: cannot read ${file}: ${(err as Error).message}\n`);
    return 1;
  }
  const source: LogSource = { service: flags.service ?? 'unknown', instance: flags.instance ?? 'unknown:0' };
  const outStream = flags.out === undefined ? undefined : createWriteStream(flags.out);
  const writer = new Writer(outStream ?? io.stdout);
  const sink = server === undefined ? undefined : new HttpSink(flags.token === undefined ? { server } : { server, token: flags.token });
  const spans = new InferredSpans(`${file}\u0000${size}`);
  let batch: Span[] = [];
  const sent = { spans: 0, rejected: 0 };
  const graph = new InferredGraph();
  const serviceOf = new Map<string, string>();
  // Link decisions arrive before their callers' calls are final; the graph takes both sides.
  const sink2 = {
    link: (l: EmittedLink, r: LogRecord): void => {
      writer.add(`{"record":${l.record},"parent":${l.parent === null ? 'null' : l.parent},"confidence":${Math.round(l.confidence * 10000) / 10000}}\n`);
      if (l.parent !== null && l.duplicateOf === undefined) graph.add(parentService.get(l.parent) ?? '?', r.service, r.endUs - r.startUs, (r.status ?? 0) >= 500, l.confidence, false);
      rememberService(l.record, r.service);
      if (sink !== undefined && l.duplicateOf === undefined) batch.push(spans.server(l, r));
    },
    call: (c: EmittedCall, r: LogRecord): void => {
      if (c.callee === null && c.parent !== null) {
        const to = r.peer ?? (r.remote !== undefined ? (serviceOf.get(r.remote) ?? r.remote) : `? ${r.endpoint}`);
        graph.add(r.service, to, r.endUs - r.startUs, (r.status ?? 0) >= 500, c.confidence, true);
        if (r.peer === undefined && r.remote !== undefined && serviceOf.has(r.remote)) r = { ...r, peer: to };
      }
      if (sink !== undefined) {
        const span = spans.client(c, r);
        if (span !== undefined) batch.push(span);
      }
    },
  };
  // Service of recent `in` lines, for naming a link's caller; bounded like the inference window.
  const parentService = new RecentByLine<string>(RECENT_LINES);
  const rememberService = (line: number, service: string): void => parentService.set(line, service);
  const inferrer = new LinkInferrer(sink2, { ...(windowUs === undefined ? {} : { windowUs }), ...(maxSkewUs === undefined ? {} : { maxSkewUs }) });
  const malformed: Problems = { count: 0, listed: [] };
  const skipped: Problems = { count: 0, listed: [] };
  const unknownFields = new Map<string, number>();
  let parse: ((line: string) => LineResult) | undefined = flags.format === undefined || flags.format === 'auto' ? undefined : parserFor(flags.format, source);
  const sendBatch = async (): Promise<void> => {
    if (sink === undefined || batch.length === 0) return;
    const res = await sink.write(batch);
    sent.spans += res.accepted;
    sent.rejected += res.rejected;
    batch = [];
  };
  let lines = 0;
  try {
    lines = await readLines(createReadStream(file), {
      line: (text, lineNo) => {
        if (text.trim() === '') return;
        parse ??= parserFor(detectFormat(text), source);
        const res = parse(text);
        if ('problem' in res) {
          note(malformed, `line ${lineNo}: ${res.problem}`);
          return;
        }
        if ('skip' in res) {
          note(skipped, `line ${lineNo}: ${res.skip}`);
          return;
        }
        if (res.unknownFields !== undefined) for (const k of res.unknownFields) unknownFields.set(k, (unknownFields.get(k) ?? 0) + 1);
        for (const imported of res.records) {
          // Importers make a fresh record per line: numbered in place rather than copied.
          const rec = imported as LogRecord;
          rec.line = lineNo - 1;
          if (rec.direction === 'in' && serviceOf.size < MAX_INSTANCES) serviceOf.set(rec.instance, rec.service);
          inferrer.push(rec);
        }
        if (batch.length >= SPAN_BATCH) return sendBatch().then(() => writer.flushIfFull());
        return writer.flushIfFull();
      },
      tooLong: (lineNo) => note(malformed, `line ${lineNo}: longer than 16 MiB`),
    });
    const report = inferrer.finish();
    await writer.flush();
    while (batch.length > 0) {
      const chunk = batch.slice(0, SPAN_BATCH);
      batch = batch.slice(SPAN_BATCH);
      const rest = batch;
      batch = chunk;
      await sendBatch();
      batch = rest;
    }
    if (outStream !== undefined) {
      outStream.end();
      await once(outStream, 'close');
    }
    io.stderr.write(formatInferReport(file, lines, report, malformed, skipped, unknownFields, graph, sink === undefined ? undefined : sent));
    return 0;
  } catch (err) {
    io.stderr.write(`linktrace infer: ${(err as Error).message}\n`);
    outStream?.destroy();
    return 1;
  } finally {
    await sink?.close();
  }
}

export function register(program: Command, io: CliIo = processIo): void {
  program
    .command('infer')
    .description('infer who called whom from access logs alone (black-box; every link with a calibrated confidence)')
    .argument('<logs>', 'access-log file: JSON lines (docs/inference.md), nginx, Envoy, or SDK logger JSON lines')
    .option('--out <file>', 'write the links here instead of stdout')
    .option('--server <url>', 'also send the inferred traces to this server, as spans marked linktrace.inferred=true')
    .option('--token <token>', 'bearer token for --server')
    .addOption(new Option('--format <format>', 'input format (default: detected from the first line)').choices(ACCESS_LOG_FORMATS))
    .option('--service <name>', 'service name for logs that do not carry one (nginx, Envoy)')
    .option('--instance <ip:port>', 'instance address for logs that do not carry one (nginx, Envoy)')
    .option('--window <duration>', 'log time held for matching: longest request + worst clock offset + disorder (default 10s)')
    .option('--max-skew <duration>', 'widest clock offset between hosts looked for by timing (default 50ms)')
    .action(async (file: string, flags: InferFlags) => {
      io.setExitCode(await inferCommand(file, flags, io));
    });
}
