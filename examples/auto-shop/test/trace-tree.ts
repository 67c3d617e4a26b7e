/**
 * The shape the end-to-end test expects of one order's trace: which spans, in which service, of
 * which kind, under which parent. Spans are recognised by service, kind and the OpenTelemetry
 * semantic-convention attributes the instrumentations record (`db.system`, `http.request.method`,
 * `messaging.system`), falling back to `linktrace.target`'s scheme.
 */
import assert from 'node:assert/strict';
import type { SpanKind } from '@linktrace/model';
import type { SpanJson, TraceView } from '@linktrace/server';

export interface Role {
  role: string;
  service: string;
  kind: SpanKind;
  /** The role of the parent span; null for the root. */
  parent: string | null;
  match(span: SpanJson): boolean;
}

function text(span: SpanJson, key: string): string | undefined {
  const value = span.attributes[key];
  return typeof value === 'string' ? value : undefined;
}

function isSystem(span: SpanJson, systems: readonly string[], schemes: readonly string[]): boolean {
  const system = text(span, 'db.system') ?? text(span, 'db.system.name') ?? text(span, 'messaging.system');
  if (system !== undefined && systems.includes(system)) return true;
  const target = text(span, 'linktrace.target');
  return target !== undefined && schemes.some((scheme) => target.startsWith(`${scheme}:`));
}

const stage = (span: SpanJson): string | undefined => text(span, 'linktrace.stage');

const isHttp = (span: SpanJson): boolean => text(span, 'http.request.method') !== undefined;

/** HTTP → PostgreSQL → Redis → RabbitMQ → consumer → MariaDB → HTTP to notify-service, then the ack. */
export const ORDER_TRACE: readonly Role[] = [
  { role: 'order-api POST /orders', service: 'order-api', kind: 'server', parent: null, match: isHttp },
  { role: 'pg insert', service: 'order-api', kind: 'client', parent: 'order-api POST /orders', match: (s) => isSystem(s, ['postgresql', 'postgres'], ['postgres']) },
  { role: 'redis set', service: 'order-api', kind: 'client', parent: 'order-api POST /orders', match: (s) => isSystem(s, ['redis'], ['redis']) },
  { role: 'amqp publish', service: 'order-api', kind: 'producer', parent: 'order-api POST /orders', match: (s) => isSystem(s, ['rabbitmq', 'amqp'], ['mq']) },
  { role: 'amqp delivery', service: 'order-worker', kind: 'consumer', parent: 'amqp publish', match: (s) => isSystem(s, ['rabbitmq', 'amqp'], ['mq']) && stage(s) === 'dequeue' },
  { role: 'mysql insert', service: 'order-worker', kind: 'client', parent: 'amqp delivery', match: (s) => isSystem(s, ['mysql', 'mariadb'], ['mysql', 'mariadb']) },
  { role: 'fetch notify', service: 'order-worker', kind: 'client', parent: 'amqp delivery', match: isHttp },
  { role: 'notify-service POST /notify', service: 'notify-service', kind: 'server', parent: 'fetch notify', match: isHttp },
  // The worker acknowledges once MariaDB and notify-service are done: the message is consumed.
  { role: 'amqp ack', service: 'order-worker', kind: 'consumer', parent: 'amqp delivery', match: (s) => isSystem(s, ['rabbitmq', 'amqp'], ['mq']) && stage(s) === 'consume' },
];

export function describeSpan(span: SpanJson): string {
  const keys = ['db.system', 'db.system.name', 'messaging.system', 'http.request.method', 'url.path', 'linktrace.stage', 'linktrace.target'];
  const attrs = keys.filter((k) => span.attributes[k] !== undefined).map((k) => `${k}=${String(span.attributes[k])}`);
  return `${span.service} ${span.kind} "${span.name}" rpcid=${span.rpcid ?? '-'} id=${span.spanId} parent=${span.parentSpanId ?? '-'} ${attrs.join(' ')}`;
}

export function describeTrace(view: TraceView): string {
  return view.spans.map((s) => `  ${describeSpan(s)}`).join('\n');
}

/**
 * Finds each role's span and checks the whole tree: exactly one span per role and no other span,
 * each under the expected parent, one trace id, no parent missing from the trace, and rpcids that
 * extend their parent's. Returns the span of each role.
 */
export function assertTree(view: TraceView, roles: readonly Role[]): Map<string, SpanJson> {
  const dump = `\ntrace ${view.traceId}:\n${describeTrace(view)}`;
  const byRole = new Map<string, SpanJson>();
  const claimed = new Set<SpanJson>();
  for (const role of roles) {
    const found = view.spans.filter((s) => s.service === role.service && s.kind === role.kind && role.match(s));
    assert.equal(found.length, 1, `exactly one span for ${role.role} (${role.service} ${role.kind}), got ${found.length}${dump}`);
    byRole.set(role.role, found[0]!);
    claimed.add(found[0]!);
  }
  const others = view.spans.filter((s) => !claimed.has(s));
  assert.deepEqual(others.map(describeSpan), [], `no span outside the expected tree${dump}`);

  assert.deepEqual([...new Set(view.spans.map((s) => s.traceId))], [view.traceId], `one trace id${dump}`);
  const ids = new Map(view.spans.map((s, i) => [s.spanId, i]));
  assert.equal(ids.size, view.spans.length, `span ids are unique${dump}`);
  for (const [i, span] of view.spans.entries()) {
    if (span.parentSpanId !== undefined) assert.ok(ids.has(span.parentSpanId), `parent ${span.parentSpanId} of ${describeSpan(span)} is in the trace (no orphan)${dump}`);
    // The server's parent index must agree with the span's own parent id.
    assert.equal(view.parents[i], span.parentSpanId === undefined ? -1 : ids.get(span.parentSpanId), `parent index of ${describeSpan(span)}`);
  }
  assert.deepEqual(view.rows.filter((r) => r.kind === 'lost-hop'), [], `no missing parents${dump}`);

  for (const role of roles) {
    const span = byRole.get(role.role)!;
    if (role.parent === null) {
      assert.equal(span.parentSpanId, undefined, `${role.role} is the root${dump}`);
      assert.equal(span.rpcid, '0', `the root's rpcid${dump}`);
      continue;
    }
    const parent = byRole.get(role.parent)!;
    assert.equal(span.parentSpanId, parent.spanId, `${role.role}'s parent is ${role.parent}${dump}`);
    assert.match(span.rpcid ?? '', /^0(\.[1-9]\d*)*$/, `${role.role} has a well-formed rpcid${dump}`);
    // The receiving half of a call to another service shares its caller's position (DESIGN §2);
    // any other span is the next call below its parent.
    const receiving = parent.service !== span.service && (span.kind === 'server' || span.kind === 'consumer');
    if (receiving) assert.equal(span.rpcid, parent.rpcid, `${role.role} shares ${role.parent}'s rpcid${dump}`);
    else assert.match(span.rpcid!, new RegExp(`^${parent.rpcid!.replaceAll('.', '\\.')}\\.\\d+$`), `${role.role}'s rpcid extends ${role.parent}'s${dump}`);
  }
  const positions = view.spans.map((s) => `${s.service} ${s.rpcid ?? '-'}`);
  assert.equal(new Set(positions).size, positions.length, `each position is held once per service: ${positions.join(', ')}`);
  assert.deepEqual(view.rows.filter((r) => r.kind !== 'span'), [], `the rpcid positions have no gap${dump}`);
  assert.deepEqual(view.spans.filter((s) => s.rpcid === undefined).map(describeSpan), [], `every span has a position${dump}`);
  return byRole;
}
