/**
 * Realistic traces for the ingest benchmark, made by walking the call graph of ingest-catalog.ts:
 * an entry point (a storefront request or a sync feed message) runs its steps in order, each
 * call to another service is a client span with the callee's server span below it (sharing its
 * rpcid position, as the SDK does), each message a producer span whose consumers start later.
 * Times nest (a parent outlasts its synchronous children), ids are Linktrace ids made by the
 * model's generator for the instance that started the trace, about 1.5% of traces fail
 * somewhere (and the failure travels up to the entry point), and every span has exactly ten
 * attributes (ingest-attributes.ts). A trace has 5 to 30 spans.
 */
import { createTraceIdGenerator, newSpanId, type Attributes, type InstrumentationScope, type Span, type SpanKind } from '@linktrace/model';
import { ENDPOINTS, ENTRY_POINTS, INSTANCES_PER_SERVICE, SERVICES, type DbSystem, type Endpoint, type Step } from './ingest-catalog.js';
import {
  clientAttributes,
  consumerAttributes,
  dbAttributes,
  externalAttributes,
  processAttributes,
  producerAttributes,
  readServerAttributes,
  receiveServerAttributes,
  traceValues,
  type TraceValues,
} from './ingest-attributes.js';
import { Random } from './ingest-random.js';

export const MIN_TRACE_SPANS = 5;
export const MAX_TRACE_SPANS = 30;

export interface TraceGeneratorOptions {
  seed: number;
  /** Start of the first trace, µs since the epoch. */
  startUs: number;
  /** Mean time between trace starts, µs. */
  traceGapUs: number;
}

interface Instance {
  address: string;
  resource: Attributes;
  /** Trace ids for traces this instance starts. */
  nextTraceId: () => string;
}

const DB_MEDIAN_MS: Record<DbSystem, number> = { mysql: 1.2, postgresql: 1.5, redis: 0.25, elasticsearch: 6, mongodb: 1.5 };
const NET_MS = 0.2;
const QUEUE_MS = 25;
const EXTERNAL_MS = 110;
/** Below this many spans so far no failure is injected, so that failing traces keep ≥ 5 spans. */
const FAILURE_FLOOR = MIN_TRACE_SPANS;

const scope = (name: string): InstrumentationScope => ({ name, version: '0.1.0' });
const SCOPES = {
  http: scope('@linktrace/sdk/http'),
  kafka: scope('@linktrace/sdk/kafkajs'),
  sdk: scope('@linktrace/sdk'),
  mysql: scope('@linktrace/sdk/mysql2'),
  postgresql: scope('@linktrace/sdk/pg'),
  redis: scope('@linktrace/sdk/ioredis'),
  elasticsearch: scope('@linktrace/sdk/elasticsearch'),
  mongodb: scope('@linktrace/sdk/mongodb'),
} as const;

const DB_ERRORS: Record<DbSystem, string> = {
  mysql: 'Deadlock found when trying to get lock; try restarting transaction',
  postgresql: 'canceling statement due to statement timeout',
  redis: 'Connection is closed.',
  elasticsearch: 'es_rejected_execution_exception: rejected execution of coordinating operation',
  mongodb: 'connection 12 to mongo-rs0.db.internal:27017 timed out',
};

/** What a handler answered. */
interface Outcome {
  endUs: number;
  status: number;
}

export class TraceGenerator {
  private readonly r: Random;
  private nowUs: number;
  private readonly gapUs: number;
  private orderSeq: number;
  private readonly instances = new Map<string, Instance[]>();
  private readonly writes = new Map<string, boolean>();
  private readonly entryWeights: number[];
  /** Per trace. */
  private out: Span[] = [];
  private values!: TraceValues;

  constructor(opts: TraceGeneratorOptions) {
    this.r = new Random(opts.seed);
    this.nowUs = Math.floor(opts.startUs);
    this.gapUs = opts.traceGapUs;
    this.orderSeq = 40_000_000 + (opts.seed % 1000) * 1_000_000;
    const clock = { now: () => this.nowUs / 1000, wallMs: () => this.nowUs / 1000 };
    SERVICES.forEach((service, s) => {
      const list: Instance[] = [];
      for (let i = 0; i < INSTANCES_PER_SERVICE; i++) {
        const ipv4 = `10.12.${s}.${10 + i}`;
        const pod = `${service}-${this.r.hex(10)}-${this.r.hex(5)}`;
        list.push({
          address: `${ipv4}:8080`,
          resource: {
            'host.name': pod,
            'k8s.pod.name': pod,
            'k8s.namespace.name': 'shop-prod',
            'service.version': `2.${this.r.int(0, 40)}.${this.r.int(0, 9)}`,
            'deployment.environment': 'production',
            'process.runtime.name': 'nodejs',
            'process.runtime.version': '20.12.2',
            'telemetry.sdk.name': 'linktrace',
          },
          nextTraceId: createTraceIdGenerator({ ipv4, port: 8080, clock }),
        });
      }
      this.instances.set(service, list);
    });
    for (const id of Object.keys(ENDPOINTS)) this.endpointWrites(id);
    let sum = 0;
    this.entryWeights = ENTRY_POINTS.map(([, w]) => (sum += w));
  }

  /** Start of the most recent trace, µs. */
  get clockUs(): number {
    return this.nowUs;
  }

  /** Makes the next trace and appends its spans to `out` (parents before children); returns how many. */
  next(out: Span[]): number {
    this.nowUs += Math.max(1, Math.round(this.r.next() * 2 * this.gapUs));
    const r = this.r;
    const u = r.next() * this.entryWeights[this.entryWeights.length - 1]!;
    const entry = ENTRY_POINTS[this.entryWeights.findIndex((w) => u < w)]![0];
    this.values = traceValues(r, this.orderSeq++);
    this.out = out;
    const first = out.length;
    const ep = ENDPOINTS[entry]!;
    const instance = this.pickInstance(ep.service);
    const root = this.span(ep.topic === undefined ? 'server' : 'consumer', handlerName(ep), ep.service, instance, undefined, '0', this.nowUs);
    root.traceId = instance.nextTraceId();
    this.handle(entry, root);
    for (let i = first + 1; i < out.length; i++) out[i]!.traceId = root.traceId;
    return out.length - first;
  }

  private pickInstance(service: string): Instance {
    return this.r.pick(this.instances.get(service)!);
  }

  private span(kind: SpanKind, name: string, service: string, instance: Instance, parent: Span | undefined, rpcid: string, startUs: number): Span {
    const span: Span = {
      traceId: '',
      spanId: newSpanId(),
      rpcid,
      service,
      instance: instance.address,
      name,
      kind,
      startUs,
      durationUs: 0,
      status: { code: 'unset' },
      attributes: {},
      events: [],
      links: [],
      resource: instance.resource,
      scope: SCOPES.http,
    };
    if (parent !== undefined) span.parentSpanId = parent.spanId;
    this.out.push(span);
    return span;
  }

  /** True when the endpoint, or something it calls or triggers, writes (it is then a chain `receive`). */
  private endpointWrites(id: string): boolean {
    const known = this.writes.get(id);
    if (known !== undefined) return known;
    this.writes.set(id, false);
    const writes = ENDPOINTS[id]!.steps.some(
      (s) => (s.t === 'db' && s.op.write) || s.t === 'publish' || s.t === 'external' || (s.t === 'call' && this.endpointWrites(s.to)),
    );
    this.writes.set(id, writes);
    return writes;
  }

  /** Runs endpoint `id` as span `self` (created, start set): its steps, then its own attributes. */
  private handle(id: string, self: Span): Outcome {
    const ep = ENDPOINTS[id]!;
    const r = this.r;
    const v = this.values;
    let cursor = self.startUs + r.latencyUs(ep.selfMs * 0.4);
    let child = 0;
    let status = ep.method === 'POST' && ep.route !== undefined && !ep.route.includes('search') && !ep.route.includes('verify') ? 201 : 200;
    let failure: string | undefined;
    steps: for (const step of ep.steps) {
      if (step.p !== undefined && !r.chance(step.p)) continue;
      const times = 'repeat' in step && step.repeat !== undefined ? r.int(step.repeat[0], step.repeat[1]) : 1;
      for (let k = 0; k < times; k++) {
        if (step.t === 'process' && step.skip !== undefined && r.chance(step.skip)) {
          cursor = this.process(step, ep, self, `${self.rpcid!}.${++child}`, cursor, true).endUs;
          break steps;
        }
        // A not-found answer ends a read early.
        if (k === 0 && child === 0 && ep.method === 'GET' && (id === 'catalog.get' || id === 'order.get') && this.canFail() && r.chance(0.015)) {
          status = 404;
          break steps;
        }
        const result = this.step(step, ep, self, `${self.rpcid!}.${++child}`, cursor);
        cursor = result.endUs + r.latencyUs(0.03);
        if (result.status >= 500) {
          status = result.status === 504 || result.status === 503 ? 502 : 500;
          failure = result.status === 500 ? 'internal error' : `upstream answered ${result.status}`;
          break steps;
        }
      }
    }
    const endUs = cursor + r.latencyUs(ep.selfMs * 0.6);
    self.durationUs = endUs - self.startUs;
    const writes = this.writes.get(id)!;
    if (ep.topic !== undefined) {
      self.scope = SCOPES.kafka;
      self.attributes = consumerAttributes(ep, v, r);
    } else {
      self.attributes = writes ? receiveServerAttributes(ep, status, v) : readServerAttributes(ep, status, v, r);
    }
    if (failure !== undefined) this.fail(self, failure, 'Error');
    return { endUs, status };
  }

  private canFail(): boolean {
    return this.out.length >= FAILURE_FLOOR;
  }

  private fail(span: Span, message: string, type: string): void {
    span.status = { code: 'error', message };
    span.events = [{ timeUs: span.startUs + span.durationUs!, name: 'exception', attributes: { 'exception.type': type, 'exception.message': message } }];
  }

  /** Runs one step as span(s) under `parent` at position `rpcid`, starting at `at`. */
  private step(step: Step, ep: Endpoint, parent: Span, rpcid: string, at: number): Outcome {
    const r = this.r;
    const v = this.values;
    const startUs = at + r.latencyUs(0.02);
    switch (step.t) {
      case 'db': {
        const op = step.op;
        const name = op.system === 'redis' ? op.operation : op.system === 'mysql' || op.system === 'postgresql' ? `${op.operation} ${op.db}.${op.table}` : `${op.operation} ${op.table}`;
        const s = this.span('client', name, ep.service, this.instanceOf(parent), parent, rpcid, startUs);
        s.scope = SCOPES[op.system];
        s.durationUs = r.latencyUs(DB_MEDIAN_MS[op.system]);
        s.attributes = dbAttributes(op, ep.entity, v, r);
        if (op.write && this.canFail() && r.chance(0.003)) {
          this.fail(s, DB_ERRORS[op.system], `${op.system}Error`);
          return { endUs: startUs + s.durationUs, status: 500 };
        }
        return { endUs: startUs + s.durationUs, status: 200 };
      }
      case 'call': {
        const callee = ENDPOINTS[step.to]!;
        const client = this.span('client', handlerName(callee), ep.service, this.instanceOf(parent), parent, rpcid, startUs);
        const server = this.span('server', handlerName(callee), callee.service, this.pickInstance(callee.service), client, rpcid, startUs + r.latencyUs(NET_MS));
        const answer = this.handle(step.to, server);
        const endUs = answer.endUs + r.latencyUs(NET_MS);
        client.durationUs = endUs - startUs;
        client.attributes = clientAttributes(callee, this.writes.get(step.to)!, answer.status, v, r);
        if (answer.status >= 500) client.status = { code: 'error', message: `HTTP ${answer.status}` };
        return { endUs, status: answer.status };
      }
      case 'publish': {
        const producer = this.span('producer', `${step.topic} publish`, ep.service, this.instanceOf(parent), parent, rpcid, startUs);
        producer.scope = SCOPES.kafka;
        producer.durationUs = r.latencyUs(1.5);
        producer.attributes = producerAttributes(step.topic, ep.entity, v, r);
        const endUs = startUs + producer.durationUs;
        for (const consumerId of step.consumers) {
          const c = ENDPOINTS[consumerId]!;
          // The consumer takes the producer's position (the receiving half of the message hop).
          const consumer = this.span('consumer', handlerName(c), c.service, this.pickInstance(c.service), producer, rpcid, endUs + r.latencyUs(QUEUE_MS, 1));
          this.handle(consumerId, consumer);
        }
        return { endUs, status: 200 };
      }
      case 'process':
        return this.process(step, ep, parent, rpcid, startUs, false);
      case 'external': {
        const s = this.span('client', `${step.method} ${step.peer}`, ep.service, this.instanceOf(parent), parent, rpcid, startUs);
        s.durationUs = r.latencyUs(EXTERNAL_MS, 0.6);
        let status = step.method === 'POST' ? 201 : 200;
        if (this.canFail() && r.chance(0.02)) {
          status = r.chance(0.7) ? 504 : 503;
          s.durationUs = Math.max(s.durationUs, status === 504 ? 10_000_000 : 50_000);
          s.status = { code: 'error', message: status === 504 ? `${step.peer}: timeout after 10000 ms` : `HTTP ${status}` };
        }
        s.attributes = externalAttributes(step.peer, step.method, step.path, status, ep.entity, v);
        return { endUs: startUs + s.durationUs, status };
      }
    }
  }

  private process(step: Extract<Step, { t: 'process' }>, ep: Endpoint, parent: Span, rpcid: string, startUs: number, skipped: boolean): Outcome {
    const s = this.span('internal', step.name, ep.service, this.instanceOf(parent), parent, rpcid, startUs);
    s.scope = SCOPES.sdk;
    s.durationUs = this.r.latencyUs(skipped ? 0.1 : 0.6);
    s.attributes = processAttributes(step.fn, ep.service, skipped, ep.entity, this.values, this.r);
    return { endUs: startUs + s.durationUs, status: 200 };
  }

  /** The instance that recorded `span` (children are recorded in the same process). */
  private instanceOf(span: Span): Instance {
    return this.instances.get(span.service)!.find((i) => i.address === span.instance)!;
  }
}

function handlerName(ep: Endpoint): string {
  return ep.topic !== undefined ? `${ep.topic} process` : `${ep.method!} ${ep.route!}`;
}
