/**
 * A seeded generator of access logs with ground truth, for testing and benchmarking black-box
 * inference (docs/inference.md): concurrent request trees over services with replicas, sequential,
 * parallel and optional calls, the same endpoint called from two services, lognormal latencies,
 * per-host clock skew, keep-alive connections reused by many requests (ephemeral ports that come
 * back), services that never log, and fields that go missing. It writes records in the input format
 * and the true parent of every `in` record.
 */
import type { LogRecord } from '../inference/log-record.js';

export interface GeneratorOptions {
  seed: number;
  /** Mean requests in flight per logging instance. */
  concurrency: number;
  /** Each host's clock is off by a uniform draw in [−skewUs, +skewUs]. */
  skewUs: number;
  /** Whether the logs carry connection addresses (`remote`, `local`). */
  peers: boolean;
  /** Root requests to generate. */
  traces: number;
  /** Share of records that lose `remote`/`local` (when `peers`). Default 0.03. */
  missingFieldRate?: number;
  /** Log start, µs since the epoch. Default 2026-01-01. */
  startUs?: number;
  /**
   * Host clock offsets to keep (µs by host address), e.g. the `skews` of the segment before when a
   * long log is generated in segments; hosts not in it draw theirs as usual.
   */
  skews?: ReadonlyMap<string, number>;
}

export interface GeneratedLogs {
  /** Records in the order a merged access log has them (by end time on each host's clock), `line` = index. */
  records: LogRecord[];
  /** Per line: the true parent `in` line, null for a root; undefined for `out` lines. */
  truth: (number | null | undefined)[];
  /** Per line: for an `out` line, the `in` line of the request that made the call; undefined for `in` lines. */
  callParent: (number | undefined)[];
  /** Per host, the clock offset used, µs. */
  skews: Map<string, number>;
  /** Mean requests in flight per logging instance, as generated. */
  inFlight: number;
}

type Rand = () => number;

/** mulberry32: small, fast, seedable. */
export function seededRandom(seed: number): Rand {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(rand: Rand): number {
  const u = Math.max(1e-12, rand());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Lognormal with the given median (µs) and log-sd. */
function lognormal(rand: Rand, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(rand));
}

interface Call {
  service: string;
  endpoint: string;
  /** Probability the call is made. */
  p: number;
}

/** A step of an endpoint's work: one call, or calls made in parallel. */
type Step = Call[];

interface EndpointSpec {
  /** Median self time before, between and after calls, µs. */
  workUs: number;
  steps: Step[];
}

interface ServiceSpec {
  replicas: number;
  logs: boolean;
  port: number;
  endpoints: Record<string, EndpointSpec>;
}

const c = (service: string, endpoint: string, p = 1): Call => ({ service, endpoint, p });

/** The system the logs come from. */
const SYSTEM: Record<string, ServiceSpec> = {
  'web-gw': {
    replicas: 3,
    logs: true,
    port: 8080,
    endpoints: {
      'GET /home': { workUs: 400, steps: [[c('auth', 'GET /session')], [c('catalog', 'GET /items'), c('reco', 'GET /recs', 0.7)], [c('cart', 'GET /cart')]] },
      'POST /order': { workUs: 600, steps: [[c('auth', 'GET /session')], [c('orders', 'POST /orders')]] },
      'GET /item': { workUs: 300, steps: [[c('catalog', 'GET /items')], [c('inventory', 'GET /stock', 0.5)]] },
    },
  },
  auth: { replicas: 2, logs: true, port: 8081, endpoints: { 'GET /session': { workUs: 200, steps: [[c('session-store', 'GET')]] } } },
  catalog: {
    replicas: 3,
    logs: true,
    port: 8082,
    endpoints: { 'GET /items': { workUs: 300, steps: [[c('catalog-db', 'SELECT')], [c('inventory', 'GET /stock')], [c('inventory', 'GET /stock', 0.6)]] } },
  },
  reco: { replicas: 2, logs: true, port: 8083, endpoints: { 'GET /recs': { workUs: 1500, steps: [[c('catalog', 'GET /items', 0.5)]] } } },
  cart: { replicas: 2, logs: true, port: 8084, endpoints: { 'GET /cart': { workUs: 300, steps: [[c('session-store', 'GET')], [c('inventory', 'GET /stock')]] } } },
  orders: {
    replicas: 2,
    logs: true,
    port: 8085,
    endpoints: {
      'POST /orders': { workUs: 500, steps: [[c('inventory', 'POST /reserve')], [c('payments', 'POST /charge')], [c('notify', 'POST /email', 0.3), c('orders-db', 'INSERT')]] },
    },
  },
  inventory: {
    replicas: 3,
    logs: true,
    port: 8086,
    endpoints: { 'GET /stock': { workUs: 600, steps: [] }, 'POST /reserve': { workUs: 400, steps: [[c('orders-db', 'UPDATE')]] } },
  },
  notify: { replicas: 1, logs: true, port: 8087, endpoints: { 'POST /email': { workUs: 2000, steps: [] } } },
  // Never log: a key-value store, two databases, an external payment provider.
  'session-store': { replicas: 1, logs: false, port: 6379, endpoints: { GET: { workUs: 150, steps: [] } } },
  'catalog-db': { replicas: 1, logs: false, port: 5432, endpoints: { SELECT: { workUs: 1200, steps: [] } } },
  'orders-db': { replicas: 1, logs: false, port: 3306, endpoints: { INSERT: { workUs: 900, steps: [] }, UPDATE: { workUs: 700, steps: [] } } },
  payments: { replicas: 1, logs: false, port: 443, endpoints: { 'POST /charge': { workUs: 8000, steps: [] } } },
};

const ROOTS: readonly [string, number][] = [
  ['GET /home', 0.5],
  ['POST /order', 0.2],
  ['GET /item', 0.3],
];

const WORK_SIGMA = 0.6;
const NET_MEDIAN_US = 150;
const NET_SIGMA = 0.35;
const KEEPALIVE_US = 5_000_000;

/** A request as generated (true times). */
interface Node {
  service: string;
  instance: number;
  endpoint: string;
  start: number;
  end: number;
  /** Calls made, with their callee node (undefined when the callee never logs... it still has a node). */
  calls: { start: number; end: number; callee: Node }[];
  parent?: Node;
  line?: number;
}

function pickRoot(rand: Rand): string {
  let x = rand();
  for (const [ep, p] of ROOTS) {
    x -= p;
    if (x <= 0) return ep;
  }
  return ROOTS[0]![0];
}

/** Builds one request tree starting at true time `t` on a random replica; returns its root. */
function buildTree(rand: Rand, service: string, endpoint: string, t: number): Node {
  const spec = SYSTEM[service]!;
  const ep = spec.endpoints[endpoint]!;
  const node: Node = { service, instance: Math.floor(rand() * spec.replicas), endpoint, start: t, end: t, calls: [] };
  let now = t + lognormal(rand, ep.workUs, WORK_SIGMA);
  for (const step of ep.steps) {
    let stepEnd = now;
    for (const call of step) {
      if (rand() >= call.p) continue;
      // Parallel calls of one step leave a few µs apart.
      const callStart = now + (step.length > 1 ? rand() * 30 : 0);
      const callee = buildTree(rand, call.service, call.endpoint, callStart + lognormal(rand, NET_MEDIAN_US, NET_SIGMA));
      callee.parent = node;
      const callEnd = callee.end + lognormal(rand, NET_MEDIAN_US, NET_SIGMA);
      node.calls.push({ start: callStart, end: callEnd, callee });
      stepEnd = Math.max(stepEnd, callEnd);
    }
    now = stepEnd + lognormal(rand, ep.workUs / 3, WORK_SIGMA);
  }
  node.end = now + lognormal(rand, ep.workUs / 2, WORK_SIGMA);
  return node;
}

function hostIp(service: string, replica: number): string {
  const index = Object.keys(SYSTEM).indexOf(service);
  return `10.1.${index + 1}.${replica + 10}`;
}

function loggedDuration(n: Node): number {
  let sum = SYSTEM[n.service]!.logs ? n.end - n.start : 0;
  for (const call of n.calls) sum += loggedDuration(call.callee);
  return sum;
}

/** Generates the logs: Poisson arrivals of root requests, rate set to give `concurrency` in flight per instance. */
export function generateLogs(opts: GeneratorOptions): GeneratedLogs {
  const rand = seededRandom(opts.seed);
  const missing = opts.peers ? (opts.missingFieldRate ?? 0.03) : 1;
  const t0 = opts.startUs ?? 1_767_225_600_000_000;
  const loggingInstances = Object.values(SYSTEM).reduce((n, s) => n + (s.logs ? s.replicas : 0), 0);
  // Trees first (true time from 0), then arrival times that give the asked concurrency (Little's law).
  const trees: Node[] = [];
  let busy = 0;
  for (let i = 0; i < opts.traces; i++) {
    const tree = buildTree(rand, 'web-gw', pickRoot(rand), 0);
    busy += loggedDuration(tree);
    trees.push(tree);
  }
  const rate = (opts.concurrency * loggingInstances) / (busy / opts.traces);
  let t = t0;
  const shift = (n: Node, by: number): void => {
    n.start += by;
    n.end += by;
    for (const call of n.calls) {
      call.start += by;
      call.end += by;
      shift(call.callee, by);
    }
  };
  for (const tree of trees) {
    t += -Math.log(Math.max(1e-12, rand())) / rate;
    shift(tree, t);
  }
  const span = trees.length === 0 ? 1 : Math.max(...trees.map((tr) => tr.end)) - t0;

  const skews = new Map<string, number>(opts.skews);
  const skewOf = (ip: string): number => {
    let s = skews.get(ip);
    if (s === undefined) skews.set(ip, (s = Math.round((rand() * 2 - 1) * opts.skewUs)));
    return s;
  };
  // Clients outside the system that call the gateway.
  const clientAddr = (): string => `192.168.${Math.floor(rand() * 200)}.${Math.floor(rand() * 250) + 1}:${40000 + Math.floor(rand() * 20000)}`;

  // Every call, in true start order, gets a keep-alive connection: the most recently freed idle one
  // to that callee instance, else a new ephemeral port (ports wrap, so they come back later).
  interface Conn {
    port: number;
    freeAt: number;
  }
  const pools = new Map<string, Conn[]>();
  const nextPort = new Map<string, number>();
  interface Pending {
    caller: Node;
    call: { start: number; end: number; callee: Node };
  }
  const calls: Pending[] = [];
  const walk = (n: Node): void => {
    for (const call of n.calls) {
      calls.push({ caller: n, call });
      walk(call.callee);
    }
  };
  for (const tree of trees) walk(tree);
  calls.sort((a, b) => a.call.start - b.call.start);
  const connOf = new Map<object, string>();
  for (const { caller, call } of calls) {
    const callerIp = hostIp(caller.service, caller.instance);
    const key = `${callerIp}>${call.callee.service}/${call.callee.instance}`;
    let pool = pools.get(key);
    if (pool === undefined) pools.set(key, (pool = []));
    let best: Conn | undefined;
    for (const conn of pool) if (conn.freeAt <= call.start && conn.freeAt > call.start - KEEPALIVE_US && (best === undefined || conn.freeAt > best.freeAt)) best = conn;
    if (best === undefined) {
      for (let i = pool.length - 1; i >= 0; i--) if (pool[i]!.freeAt <= call.start - KEEPALIVE_US) pool.splice(i, 1);
      const port = nextPort.get(callerIp) ?? 32768 + Math.floor(rand() * 1000);
      nextPort.set(callerIp, port >= 60999 ? 32768 : port + 1);
      best = { port, freeAt: 0 };
      pool.push(best);
    }
    best.freeAt = call.end;
    connOf.set(call, `${callerIp}:${best.port}`);
  }

  // Records, on each host's clock.
  interface Pre {
    rec: Omit<LogRecord, 'line'>;
    node?: Node;
    caller?: Node;
    sortKey: number;
  }
  const pre: Pre[] = [];
  const emit = (n: Node, remote: string | undefined): void => {
    const spec = SYSTEM[n.service]!;
    const ip = hostIp(n.service, n.instance);
    const skew = skewOf(ip);
    if (spec.logs) {
      const rec: Omit<LogRecord, 'line'> = {
        direction: 'in',
        service: n.service,
        instance: `${ip}:${spec.port}`,
        endpoint: n.endpoint,
        startUs: Math.round(n.start + skew),
        endUs: Math.round(n.end + skew),
        status: 200,
      };
      if (remote !== undefined && rand() >= missing) rec.remote = remote;
      pre.push({ rec, node: n, sortKey: rec.endUs });
    }
    for (const call of n.calls) {
      const conn = connOf.get(call)!;
      const calleeSpec = SYSTEM[call.callee.service]!;
      if (spec.logs) {
        const rec: Omit<LogRecord, 'line'> = {
          direction: 'out',
          service: n.service,
          instance: `${ip}:${spec.port}`,
          endpoint: call.callee.endpoint,
          startUs: Math.round(call.start + skew),
          endUs: Math.round(call.end + skew),
          status: 200,
        };
        if (opts.peers && rand() >= missing) rec.local = conn;
        if (opts.peers) rec.remote = `${hostIp(call.callee.service, call.callee.instance)}:${calleeSpec.port}`;
        if (!calleeSpec.logs) rec.peer = call.callee.service;
        pre.push({ rec, caller: n, sortKey: rec.endUs });
      }
      emit(call.callee, conn);
    }
  };
  for (const tree of trees) emit(tree, clientAddr());
  pre.sort((a, b) => a.sortKey - b.sortKey);
  const records: LogRecord[] = [];
  const truth: (number | null | undefined)[] = [];
  const callParent: (number | undefined)[] = [];
  pre.forEach((p, line) => {
    records.push({ line, ...p.rec });
    if (p.node !== undefined) p.node.line = line;
  });
  for (const p of pre) {
    callParent.push(p.caller?.line);
    if (p.node === undefined) {
      truth.push(undefined);
      continue;
    }
    // The nearest logging ancestor (every service that calls here logs, so it is the parent).
    let up = p.node.parent;
    while (up !== undefined && !SYSTEM[up.service]!.logs) up = up.parent;
    truth.push(up?.line ?? null);
  }
  return { records, truth, callParent, skews, inFlight: (busy / span / loggingInstances) };
}
