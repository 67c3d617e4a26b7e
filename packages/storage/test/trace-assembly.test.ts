import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ATTR, decodeZipkinJson } from '@linktrace/model';
import type { Span } from '@linktrace/model';
import { span } from '../src/contract/contract-spans.js';
import { findOrphans } from '../src/trace-assembly/missing-parents.js';
import { buildRpcidTree } from '../src/trace-assembly/rpcid-tree.js';
import type { RpcidNode } from '../src/trace-assembly/rpcid-tree.js';
import { mergeSharedSpans } from '../src/trace-assembly/shared-spans.js';
import { spanHost } from '../src/trace-assembly/span-host.js';
import { readFixtureJson } from './support/fixtures.js';

const tid = '0af7651916cd43dd8448eb211c80319c';
let next = 0;
const at = (rpcid: string | undefined, over: Partial<Span> = {}): Span => {
  const s = span({ traceId: tid, spanId: (++next).toString(16).padStart(16, '0'), ...over });
  if (rpcid !== undefined) s.rpcid = rpcid;
  return s;
};

/** The tree as nested `rpcid[*missing]: children`, for readable comparisons. */
function shape(n: RpcidNode): string {
  const self = `${n.rpcid}${n.missing ? '*' : ''}${n.spans.length > 1 ? `x${n.spans.length}` : ''}`;
  return n.children.length === 0 ? self : `${self}(${n.children.map(shape).join(' ')})`;
}

describe('buildRpcidTree', () => {
  it('lays out positions, with the gaps as missing nodes and a call’s two halves on one node', () => {
    const spans = [at('0'), at('0.1', { kind: 'client' }), at('0.1', { kind: 'server' }), at('0.1.1'), at('0.1.3'), at('0.2'), at('0.1.10')];
    const tree = buildRpcidTree(spans);
    assert.equal(shape(tree.root!), '0(0.1x2(0.1.1 0.1.2* 0.1.3 0.1.4* 0.1.5* 0.1.6* 0.1.7* 0.1.8* 0.1.9* 0.1.10) 0.2)');
    assert.deepStrictEqual(tree.missing, ['0.1.2', '0.1.4', '0.1.5', '0.1.6', '0.1.7', '0.1.8', '0.1.9']);
    assert.equal(tree.truncated, false);
    assert.deepStrictEqual(tree.root!.children[0]!.spans, [spans[1], spans[2]]);
  });

  it('still hangs every span from the root when the root and whole branches are lost', () => {
    const tree = buildRpcidTree([at('0.2.1'), at(undefined, { attributes: { [ATTR.rpcid]: '0.3' } })]);
    assert.equal(shape(tree.root!), '0*(0.1* 0.2*(0.2.1) 0.3)');
    assert.deepStrictEqual(tree.missing, ['0', '0.1', '0.2']);
  });

  it('lists spans without a position and with an invalid one apart', () => {
    const none = at(undefined);
    const bad = [at('1.2'), at('0.01'), at(''), at('0.a')];
    const tree = buildRpcidTree([none, ...bad]);
    assert.equal(tree.root, undefined);
    assert.deepStrictEqual(tree.withoutRpcid, [none]);
    assert.deepStrictEqual(tree.invalidRpcid, bad);
    assert.deepStrictEqual(tree.missing, []);
  });

  it('caps the missing list, says so, and keeps the present spans laid out', () => {
    const far = at('0.50.7');
    const tree = buildRpcidTree([at('0'), far], 10);
    assert.equal(tree.truncated, true);
    assert.equal(tree.missing.length, 10);
    assert.deepStrictEqual(tree.missing.slice(0, 3), ['0.1', '0.2', '0.3']);
    const n50 = tree.root!.children.find((c) => c.rpcid === '0.50')!;
    assert.equal(n50.missing, true);
    assert.deepStrictEqual(n50.children.map((c) => c.rpcid), ['0.50.7']);
    assert.deepStrictEqual(n50.children[0]!.spans, [far]);
  });

  it('builds nothing from nothing', () => {
    assert.deepStrictEqual(buildRpcidTree([]), { missing: [], truncated: false, withoutRpcid: [], invalidRpcid: [] });
  });
});

describe('findOrphans', () => {
  it('reports the spans of messaging2.json whose parents are not in the trace', () => {
    const { spans } = decodeZipkinJson(readFixtureJson('zipkin/messaging2.json'));
    const report = findOrphans(spans);
    assert.deepStrictEqual(report.missingParentIds, ['0153a596db406c83', '0153a596db406111']);
    assert.deepStrictEqual(
      report.orphans.map((s) => s.spanId),
      ['939e2fdc360a1201', 'dfdfa6bdfc538d3e', 'c779d4ff1adfc8f9', '3df9ceef91bbc631', '693fb64c3cf75cf3', '3df9ceef91bbc777'],
    );
  });

  it('reports nothing for a complete trace or an empty one', () => {
    const root = at('0');
    assert.deepStrictEqual(findOrphans([root, at('0.1', { parentSpanId: root.spanId })]), { orphans: [], missingParentIds: [] });
    assert.deepStrictEqual(findOrphans([]), { orphans: [], missingParentIds: [] });
  });
});

describe('mergeSharedSpans', () => {
  it('makes one hop of the shared client/server halves of skew.json and keeps both raw spans', () => {
    const { spans } = decodeZipkinJson(readFixtureJson('zipkin/skew.json'));
    const hops = mergeSharedSpans(spans);
    assert.equal(hops.length, 3);
    const merged = hops.find((h) => h.halves !== undefined)!;
    const client = spans.find((s) => s.kind === 'client')!;
    const server = spans.find((s) => s.kind === 'server' && s.shared === true)!;
    assert.equal(merged.halves!.client, client);
    assert.equal(merged.halves!.server, server);
    assert.equal(merged.span.service, 'serviceb');
    assert.equal(merged.span.startUs, client.startUs);
    assert.equal(merged.span.durationUs, client.durationUs);
    assert.equal(merged.span.parentSpanId, 'bf396325699c84bf');
    assert.deepStrictEqual(merged.span.remote, { service: 'servicea' });
    assert.equal(merged.span.shared, true);
    // The merged hop takes the place of its first half; the other spans pass through as they are.
    assert.deepStrictEqual(hops.map((h) => h.span.spanId), ['43210ae0c10d1234', '74280ae0c10d8062', 'bf396325699c84bf']);
    assert.equal(hops[0]!.span, spans[0]);
  });

  it('merges status (error wins), attributes (server wins) and events (by time)', () => {
    const client = at('0.1', { spanId: 'cccccccccccccccc', kind: 'client', status: { code: 'error', message: 'timeout' }, attributes: { a: 1, b: 'client' }, events: [{ timeUs: 5, name: 'c' }] });
    const server = at('0.1', { spanId: 'cccccccccccccccc', kind: 'server', status: { code: 'ok' }, attributes: { b: 'server' }, events: [{ timeUs: 3, name: 's' }] });
    delete client.durationUs;
    const [hop] = mergeSharedSpans([server, client]);
    assert.deepStrictEqual(hop!.span.status, { code: 'error', message: 'timeout' });
    assert.deepStrictEqual(hop!.span.attributes, { a: 1, b: 'server' });
    assert.deepStrictEqual(hop!.span.events.map((e) => e.name), ['s', 'c']);
    assert.equal(hop!.span.durationUs, server.durationUs, 'a client start record does not time the hop');
    assert.equal(hop!.span.rpcid, '0.1');
  });

  it('leaves a server span alone when no client span shares its id, and pairs each client once', () => {
    const lone = at(undefined, { spanId: 'dddddddddddddddd', kind: 'server', shared: true });
    const c = at(undefined, { spanId: 'eeeeeeeeeeeeeeee', kind: 'client' });
    const s1 = at(undefined, { spanId: 'eeeeeeeeeeeeeeee', kind: 'server' });
    const s2 = at(undefined, { spanId: 'eeeeeeeeeeeeeeee', kind: 'server' });
    const hops = mergeSharedSpans([lone, c, s1, s2]);
    assert.deepStrictEqual(hops.map((h) => h.halves !== undefined), [false, true, false]);
    assert.equal(hops[2]!.span, s2);
  });
});

describe('spanHost', () => {
  it('takes the host of host:port, [v6]:port and bare addresses, else the service', () => {
    const host = (instance: string | undefined): string => spanHost(span({ traceId: tid, spanId: 'ffffffffffffffff', service: 'svc', ...(instance === undefined ? {} : { instance }) }));
    assert.equal(host('10.0.0.1:8080'), '10.0.0.1');
    assert.equal(host('10.0.0.1'), '10.0.0.1');
    assert.equal(host('[2001:db8::1]:443'), '2001:db8::1');
    assert.equal(host('2001:db8::1'), '2001:db8::1');
    assert.equal(host('node-7:9000'), 'node-7');
    assert.equal(host(undefined), 'service:svc');
    assert.equal(host(''), 'service:svc');
  });
});
