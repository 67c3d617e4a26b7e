import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isValidTraceStateKey, isValidTraceStateValue, parseTraceState, splitTraceState } from '../src/propagation/trace-state.js';
import { w3cTraceContextPropagator } from '../src/propagation/w3c-trace-context.js';
import type { SpanContext } from '../src/types.js';
import { extractFrom, injectInto, SPAN_ID, TRACE_ID, VALID_TRACEPARENT } from './propagation-helpers.js';

const w3c = w3cTraceContextPropagator();

function contextWith(tracestate: string | string[] | undefined): SpanContext {
  const headers: Record<string, string | string[]> = { traceparent: VALID_TRACEPARENT };
  if (tracestate !== undefined) headers.tracestate = tracestate;
  const sc = extractFrom(w3c, headers).spanContext;
  assert.ok(sc, 'traceparent must still be extracted');
  return sc;
}

const stateOf = (tracestate: string | string[]) => contextWith(tracestate).traceState;

function assertDiscarded(tracestate: string | string[]): void {
  const sc = contextWith(tracestate);
  assert.equal(sc.traceState, undefined, `expected ${JSON.stringify(tracestate)} to be discarded`);
  assert.equal(sc.rpcid, undefined);
}

const members = (n: number, from = 1) =>
  Array.from({ length: n }, (_, i) => `bar${String(i + from).padStart(2, '0')}=${String(i + from).padStart(2, '0')}`);

void describe('tracestate extraction', () => {
  void test('is kept, in order, alongside a valid traceparent', () => {
    assert.equal(stateOf('foo=1,bar=2'), 'foo=1,bar=2');
  });

  void test('header name is matched in any case; trace-state and trace.state are other headers', () => {
    for (const name of ['TraceState', 'TRACESTATE']) {
      assert.equal(extractFrom(w3c, { traceparent: VALID_TRACEPARENT, [name]: 'foo=1' }).spanContext?.traceState, 'foo=1');
    }
    assert.equal(extractFrom(w3c, { traceparent: VALID_TRACEPARENT, 'trace-state': 'foo=1' }).spanContext?.traceState, undefined);
    assert.equal(extractFrom(w3c, { traceparent: VALID_TRACEPARENT, 'trace.state': 'foo=1' }).spanContext?.traceState, undefined);
  });

  void test('an empty header is accepted and yields no traceState', () => {
    assert.equal(stateOf(''), undefined);
    assert.equal(stateOf(['foo=1', '']), 'foo=1');
    assert.equal(stateOf(['', 'foo=1']), 'foo=1');
  });

  void test('multiple headers are combined in order', () => {
    assert.equal(stateOf(['foo=1,bar=2', 'rojo=1,congo=2', 'baz=3']), 'foo=1,bar=2,rojo=1,congo=2,baz=3');
    assert.equal(stateOf('foo=1,bar=2, rojo=1'), 'foo=1,bar=2,rojo=1'); // Node joins repeats with ", "
  });

  void test('a repeated key: the list is passed on with the first member of that key, the later ones dropped', () => {
    assert.equal(stateOf('foo=1,foo=1'), 'foo=1');
    assert.equal(stateOf('foo=1,foo=2'), 'foo=1');
    assert.equal(stateOf(['foo=1', 'foo=1']), 'foo=1');
    assert.equal(stateOf(['foo=1', 'foo=2']), 'foo=1');
    assert.equal(stateOf('foo=1,bar=2,foo=3, baz=4,bar=5'), 'foo=1,bar=2,baz=4');
    const ours = contextWith('lt=0.1,foo=1,lt=0.2');
    assert.equal(ours.rpcid, '0.1');
    assert.equal(ours.traceState, 'foo=1');
  });

  void test('every allowed key and value character is accepted', () => {
    const key = 'abcdefghijklmnopqrstuvwxyz0123456789_-*/';
    let value = '';
    for (let c = 0x20; c <= 0x7e; c++) if (c !== 0x2c && c !== 0x3d) value += String.fromCharCode(c);
    assert.equal(stateOf(`${key}=${value}`), `${key}=${value}`);
    assert.equal(stateOf(`${key}@a-z0-9_-*/=${value}`), `${key}@a-z0-9_-*/=${value}`);
  });

  void test('optional whitespace and empty members are dropped', () => {
    assert.equal(stateOf('foo=1 \t , \t bar=2, \t baz=3'), 'foo=1,bar=2,baz=3');
    assert.equal(stateOf('foo=1\t \t,\t \tbar=2,\t \tbaz=3'), 'foo=1,bar=2,baz=3');
    for (const v of [' foo=1', '\tfoo=1', 'foo=1 ', 'foo=1\t', '\t foo=1 \t', ',,foo=1,, ,']) assert.equal(stateOf(v), 'foo=1', JSON.stringify(v));
  });

  void test('keys with illegal characters make the list invalid', () => {
    assertDiscarded('foo =1');
    assertDiscarded('FOO=1');
    assertDiscarded('foo.bar=1');
    assertDiscarded('_foo=1');
    assertDiscarded('=1');
  });

  void test('a key may begin with a digit', () => {
    assert.equal(stateOf('1foo=1,42=2'), '1foo=1,42=2');
  });

  void test('@ is a key character anywhere but first: trailing, doubled, repeated, before a digit', () => {
    for (const list of ['foo@=1,bar=2', 'foo@@bar=1,bar=2', 'foo@bar@baz=1,bar=2', 'foo@1bar=1', '1tenant@vendor=1']) assert.equal(stateOf(list), list);
    assertDiscarded('@foo=1,bar=2');
  });

  void test('at most 32 list members: 33 discard the whole list; empty members do not count, repeated keys do', () => {
    const all32 = members(32);
    assert.equal(stateOf([all32.slice(0, 10).join(','), all32.slice(10).join(',')]), all32.join(','));
    assertDiscarded([...members(32), 'bar33=33'].join(','));
    assertDiscarded([...members(32), 'bar01=again'].join(','));
    assert.equal(stateOf([...members(31), 'bar01=again'].join(',')), members(31).join(','));
    assert.equal(stateOf(`${all32.join(',,')},,, `), all32.join(','));
  });

  void test('a key has at most 256 characters, wherever its @ signs are', () => {
    assert.equal(stateOf(['foo=1', `${'z'.repeat(256)}=1`]), `foo=1,${'z'.repeat(256)}=1`);
    assertDiscarded(['foo=1', `${'z'.repeat(257)}=1`]);
    for (const key of [`${'t'.repeat(241)}@${'v'.repeat(14)}`, `${'t'.repeat(242)}@v`, `t@${'v'.repeat(15)}`, `t@${'v'.repeat(254)}`]) {
      assert.equal(stateOf(['foo=1', `${key}=1`]), `foo=1,${key}=1`, `${key.length} characters`);
    }
    assertDiscarded(['foo=1', `t@${'v'.repeat(255)}=1`]);
  });

  void test('10,000 entries (bad input): discarded without reading them all, traceparent kept', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `k${i}=${i}`);
    assertDiscarded(many.join(','));
    assertDiscarded(many);
    // Short enough to be scanned (20,000 characters): scanning stops at the 33rd member.
    assertDiscarded(Array.from({ length: 5_000 }, () => 'k=1').join(','));
    // 10,000 empty members are no members at all.
    assert.equal(stateOf(`${','.repeat(10_000)}foo=1`), 'foo=1');
  });

  void test('values: 1 to 256 printable characters without , or =, not ending in a space', () => {
    assertDiscarded('foo=bar=baz');
    assertDiscarded('foo=,bar=3');
    assert.equal(stateOf(`foo=${'x'.repeat(256)}`), `foo=${'x'.repeat(256)}`);
    assertDiscarded(`foo=${'x'.repeat(257)}`);
    assert.equal(stateOf('foo=a b'), 'foo=a b');
    assert.equal(stateOf('foo= leading'), 'foo= leading');
    assertDiscarded('foo=a\tb');
    assertDiscarded('foo=caf\u00e9');
    assertDiscarded('foo=\u0001');
  });

  void test('a member without = makes the list invalid', () => {
    assertDiscarded('foo=1,bar');
  });

  void test('a combined value longer than 32768 characters is discarded unread', () => {
    assertDiscarded(`foo=1${' '.repeat(32_800)}`);
  });

  void test('invalid tracestate does not affect traceparent', () => {
    const sc = contextWith('FOO=1');
    assert.equal(sc.traceId, TRACE_ID);
    assert.equal(sc.spanId, SPAN_ID);
  });

  void test('the lt member becomes rpcid and leaves traceState', () => {
    assert.deepEqual(contextWith('lt=0.1.2,foo=1'), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, isRemote: true, rpcid: '0.1.2', traceState: 'foo=1' });
    const only = contextWith('lt=0');
    assert.equal(only.rpcid, '0');
    assert.equal(only.traceState, undefined);
    assert.equal(contextWith('foo=1,lt=0.3,bar=2').traceState, 'foo=1,bar=2');
    assert.equal(contextWith('foo=1,lt=0.3,bar=2').rpcid, '0.3');
  });

  void test('an lt value of the wrong shape is dropped (rpcid absent), the rest kept', () => {
    for (const bad of ['1', '0.', '0..1', '0.01', '0.00', '0.9007199254740992', '00', '0.1a', '0 .1', `0${'.1'.repeat(65)}`]) {
      const sc = contextWith(`lt=${bad},foo=1`);
      assert.equal(sc.rpcid, undefined, bad);
      assert.equal(sc.traceState, 'foo=1', bad);
    }
    assert.equal(contextWith(`lt=0${'.1'.repeat(64)}`).rpcid, `0${'.1'.repeat(64)}`);
  });
});

void describe('tracestate injection', () => {
  const sc = (over: Partial<SpanContext>): SpanContext => ({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, ...over });

  void test('lt=<rpcid> is written left-most, followed by the other members', () => {
    assert.equal(injectInto(w3c, { spanContext: sc({ rpcid: '0.1', traceState: 'foo=1,bar=2' }) }).tracestate, 'lt=0.1,foo=1,bar=2');
    assert.equal(injectInto(w3c, { spanContext: sc({ rpcid: '0.1.4' }) }).tracestate, 'lt=0.1.4');
  });

  void test('an lt member already in traceState is replaced and moved left', () => {
    assert.equal(injectInto(w3c, { spanContext: sc({ rpcid: '0.2', traceState: 'foo=1,lt=0.1,bar=2' }) }).tracestate, 'lt=0.2,foo=1,bar=2');
    assert.equal(injectInto(w3c, { spanContext: sc({ traceState: 'foo=1,lt=0.1' }) }).tracestate, 'foo=1');
  });

  void test('with 32 members already, the right-most is dropped to make room for lt', () => {
    const all = members(32);
    const out = injectInto(w3c, { spanContext: sc({ rpcid: '0.5', traceState: all.join(',') }) }).tracestate!;
    assert.equal(out, ['lt=0.5', ...all.slice(0, 31)].join(','));
    assert.equal(out.split(',').length, 32);
    assert.equal(injectInto(w3c, { spanContext: sc({ traceState: all.join(',') }) }).tracestate, all.join(','));
  });

  void test('without rpcid traceState is written as is; with neither no tracestate header', () => {
    assert.equal(injectInto(w3c, { spanContext: sc({ traceState: 'foo=1' }) }).tracestate, 'foo=1');
    assert.deepEqual(Object.keys(injectInto(w3c, { spanContext: sc({}) })), ['traceparent']);
  });

  void test('an rpcid of the wrong shape is not written', () => {
    assert.equal(injectInto(w3c, { spanContext: sc({ rpcid: '1.2', traceState: 'foo=1' }) }).tracestate, 'foo=1');
    assert.equal(injectInto(w3c, { spanContext: sc({ rpcid: '0,evil=1' }) }).tracestate, undefined);
  });

  void test('a traceState that is not a valid list is not sent', () => {
    assert.equal(injectInto(w3c, { spanContext: sc({ rpcid: '0.1', traceState: 'FOO=1' }) }).tracestate, 'lt=0.1');
    assert.equal(injectInto(w3c, { spanContext: sc({ traceState: 'a=1,A=2' }) }).tracestate, undefined);
  });

  void test('a traceState with a repeated key is sent with the first member of that key', () => {
    assert.equal(injectInto(w3c, { spanContext: sc({ rpcid: '0.1', traceState: 'a=1,b=2,a=3' }) }).tracestate, 'lt=0.1,a=1,b=2');
  });

  void test('repeated injections of different traceStates each use their own list', () => {
    for (const [state, expected] of [
      ['a=1', 'lt=0.1,a=1'],
      ['b=2', 'lt=0.1,b=2'],
      ['a=1', 'lt=0.1,a=1'],
      [undefined, 'lt=0.1'],
    ] as const) {
      assert.equal(injectInto(w3c, { spanContext: sc({ rpcid: '0.1', traceState: state }) }).tracestate, expected);
    }
  });

  void test('extract then inject keeps the other vendors in order with ours first', () => {
    const extracted = contextWith('rojo=00f067aa0ba902b7, congo=t61rcWkgMzE,lt=0.1');
    const child: SpanContext = { ...extracted, spanId: 'b9c7c989f97918e1', rpcid: '0.1.1' };
    assert.equal(injectInto(w3c, { spanContext: child }).tracestate, 'lt=0.1.1,rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
  });
});

void describe('tracestate grammar helpers', () => {
  void test('keys and values', () => {
    assert.equal(isValidTraceStateKey('lt'), true);
    assert.equal(isValidTraceStateKey('Lt'), false);
    assert.equal(isValidTraceStateKey(''), false);
    assert.equal(isValidTraceStateValue(' x'), true);
    assert.equal(isValidTraceStateValue('x '), false);
    assert.deepEqual(parseTraceState(' a=1 ,, b=2 '), ['a=1', 'b=2']);
    assert.equal(parseTraceState('a'), undefined);
  });

  void test('splitTraceState separates one key and caps the others, wherever the key sits', () => {
    assert.deepEqual(splitTraceState('a=1,lt=0.1,b=2', 'lt', 31), { value: '0.1', rest: 'a=1,b=2', restLimited: 'a=1,b=2' });
    assert.deepEqual(splitTraceState(' a=1 ,, b=2\t', 'lt', 1), { value: undefined, rest: 'a=1,b=2', restLimited: 'a=1' });
    assert.deepEqual(splitTraceState('lt=0,a=1', 'lt', 0), { value: '0', rest: 'a=1', restLimited: '' });
    assert.deepEqual(splitTraceState('', 'lt', 31), { value: undefined, rest: '', restLimited: '' });
    const others = members(31);
    const withLt = [...others.slice(0, 2), 'lt=0.9', ...others.slice(2)].join(',');
    assert.deepEqual(splitTraceState(withLt, 'lt', 30), { value: '0.9', rest: others.join(','), restLimited: others.slice(0, 30).join(',') });
    assert.deepEqual(splitTraceState('a=1,a=2,b=3', 'lt', 31), { value: undefined, rest: 'a=1,b=3', restLimited: 'a=1,b=3' });
    assert.equal(splitTraceState('a=1,B=2', 'lt', 31), undefined);
  });
});
