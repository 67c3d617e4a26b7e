import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeBaggageValue, encodeBaggageValue } from '../src/propagation/percent-encoding.js';
import { BAGGAGE_MAX_BYTES, formatBaggage, parseBaggage, w3cBaggagePropagator } from '../src/propagation/w3c-baggage.js';
import type { Baggage, BaggageEntry, Propagated } from '../src/types.js';
import { extractFrom, injectInto } from './propagation-helpers.js';

const baggage = w3cBaggagePropagator();

function extracted(header: string | string[]): Record<string, BaggageEntry> {
  return Object.fromEntries(extractFrom(baggage, { baggage: header }).baggage ?? []);
}
const values = (header: string | string[]) => Object.fromEntries(Object.entries(extracted(header)).map(([k, e]) => [k, e.value]));
const written = (entries: Array<[string, BaggageEntry]>) => injectInto(baggage, { baggage: new Map(entries) }).baggage;

void describe('baggage extraction', () => {
  void test('key=value members become entries', () => {
    assert.deepEqual(values('userId=alice,serverNode=DF%2028,isProduction=false'), {
      userId: 'alice',
      serverNode: 'DF 28',
      isProduction: 'false',
    });
  });

  void test('header name is matched in any case', () => {
    assert.equal(extractFrom(baggage, { Baggage: 'a=1' }).baggage?.get('a')?.value, '1');
  });

  void test('percent-encoded values are decoded as UTF-8, hex digits in either case', () => {
    assert.deepEqual(values('userId=Am%C3%A9lie,lower=Am%c3%a9lie,emoji=%F0%9F%98%80'), {
      userId: 'Amélie',
      lower: 'Amélie',
      emoji: '😀',
    });
  });

  void test('byte sequences that are not UTF-8 decode to U+FFFD', () => {
    assert.equal(values('a=%FF').a, '\ufffd');
    assert.equal(values('a=x%C3').a, 'x\ufffd');
    assert.equal(values('a=%C3%28').a, '\ufffd(');
  });

  void test('a % not followed by two hex digits is kept literally', () => {
    assert.deepEqual(values('a=100%,b=%G1,c=%4'), { a: '100%', b: '%G1', c: '%4' });
  });

  void test('optional whitespace around keys, = and values is not part of them', () => {
    assert.deepEqual(values('userId =   alice, serverNode = DF%2028\t,\tisProduction = false'), {
      userId: 'alice',
      serverNode: 'DF 28',
      isProduction: 'false',
    });
  });

  void test('properties after ; are kept verbatim as metadata', () => {
    assert.deepEqual(extracted('key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue'), {
      key1: { value: 'value1', metadata: 'property1;property2' },
      key2: { value: 'value2' },
      key3: { value: 'value3', metadata: 'propertyKey=propertyValue' },
    });
  });

  void test('a member with a malformed property is skipped', () => {
    assert.deepEqual(values('a=1;,b=2;=x,c=3;p q,d=4;p=a b,ok=5;p = v ; q'), { ok: '5' });
  });

  void test('members with a key that is not a token are skipped, the others kept', () => {
    assert.deepEqual(values('k y=1,=2,ké=3,"q"=4,a/b=5,good=6'), { good: '6' });
  });

  void test('members with a value outside baggage-octet are skipped, the others kept', () => {
    assert.deepEqual(values('a=b c,d="x",e=a\\b,f=é,g=ok'), { g: 'ok' });
  });

  void test('a member without = is skipped', () => {
    assert.deepEqual(values('novalue,a=1'), { a: '1' });
  });

  void test('a value may contain =', () => {
    assert.equal(values('a=b=c==').a, 'b=c==');
  });

  void test('an empty value is allowed', () => {
    assert.deepEqual(extracted('a=,b= ;p'), { a: { value: '' }, b: { value: '', metadata: 'p' } });
  });

  void test('empty and whitespace-only members are ignored', () => {
    assert.deepEqual(values(',, \t ,a=1,,'), { a: '1' });
  });

  void test('multiple headers are combined', () => {
    assert.deepEqual(values(['userId=alice', 'serverNode=DF%2028,isProduction=false']), {
      userId: 'alice',
      serverNode: 'DF 28',
      isProduction: 'false',
    });
  });

  void test('a repeated key keeps the last value', () => {
    assert.deepEqual(values(['a=1,b=2', 'a=3']), { a: '3', b: '2' });
  });

  void test('keys are case-sensitive', () => {
    assert.deepEqual(values('A=1,a=2'), { A: '1', a: '2' });
  });

  void test('at most 180 members are kept', () => {
    const header = Array.from({ length: 200 }, (_, i) => `k${i}=v`).join(',');
    const got = extractFrom(baggage, { baggage: header }).baggage!;
    assert.equal(got.size, 180);
    assert.ok(got.has('k179'));
    assert.ok(!got.has('k180'));
  });

  void test('at most 8192 bytes are kept; a member that does not fit is dropped whole, later smaller ones still fit', () => {
    const big = `big=${'x'.repeat(5000)}`;
    const got = extractFrom(baggage, { baggage: [`a=${'y'.repeat(4000)}`, big, 'small=1'] }).baggage!;
    assert.deepEqual([...got.keys()], ['a', 'small']);
    const exactly = `k=${'z'.repeat(BAGGAGE_MAX_BYTES - 2)}`;
    assert.equal(extractFrom(baggage, { baggage: exactly }).baggage?.get('k')?.value.length, BAGGAGE_MAX_BYTES - 2);
    assert.equal(extractFrom(baggage, { baggage: `${exactly}z` }).baggage, undefined);
  });

  void test('a huge header is read only up to 32768 characters, cut at a comma', () => {
    const header = `${Array.from({ length: 5000 }, (_, i) => `bad key${i}=1`).join(',')},late=1`;
    assert.ok(header.length > 32_768);
    const base: Propagated = {};
    assert.equal(extractFrom(baggage, { baggage: header }, base), base);
    const early = `first=1,${'x'.repeat(40_000)}=2`;
    assert.deepEqual(values(early), { first: '1' });
  });

  void test('nothing valid leaves base unchanged', () => {
    const base: Propagated = {};
    assert.equal(extractFrom(baggage, { baggage: 'nope' }, base), base);
    assert.equal(extractFrom(baggage, { baggage: '' }, base), base);
    assert.equal(extractFrom(baggage, {}, base), base);
  });

  void test('extracted baggage replaces base baggage; other base fields are kept', () => {
    const base: Propagated = { rootTraceId: 'r', baggage: new Map([['old', { value: '1' }]]) };
    const out = extractFrom(baggage, { baggage: 'new=2' }, base);
    assert.deepEqual([...out.baggage!.keys()], ['new']);
    assert.equal(out.rootTraceId, 'r');
    assert.deepEqual([...base.baggage!.keys()], ['old']);
  });
});

void describe('baggage injection', () => {
  void test('values are percent-encoded: %, non-ASCII, whitespace, comma, semicolon, quote, backslash', () => {
    assert.equal(
      written([
        ['userId', { value: 'Amélie' }],
        ['node', { value: 'DF 28' }],
        ['odd', { value: '100%,a;b"c\\d\te' }],
      ]),
      'userId=Am%C3%A9lie,node=DF%2028,odd=100%25%2Ca%3Bb%22c%5Cd%09e',
    );
  });

  void test('baggage-octets other than % are written as they are', () => {
    let safe = '';
    for (let c = 0x21; c <= 0x7e; c++) if (![0x22, 0x25, 0x2c, 0x3b, 0x5c].includes(c)) safe += String.fromCharCode(c);
    assert.equal(written([['k', { value: safe }]]), `k=${safe}`);
  });

  void test('entries whose key is not a token are left out', () => {
    assert.equal(written([['bad key', { value: '1' }], ['', { value: '2' }], ['ok', { value: '3' }], ['é', { value: '4' }]]), 'ok=3');
  });

  void test('valid metadata is written after ;, invalid metadata is dropped but the entry kept', () => {
    assert.equal(written([['a', { value: '1', metadata: 'p;q=2' }]]), 'a=1;p;q=2');
    assert.equal(written([['a', { value: '1', metadata: 'bad,meta' }]]), 'a=1');
    assert.equal(written([['a', { value: '1', metadata: '' }]]), 'a=1');
  });

  void test('more than 180 entries: the first 180 are written', () => {
    const header = written(Array.from({ length: 200 }, (_, i) => [`k${i}`, { value: 'v' }] as [string, BaggageEntry]))!;
    assert.equal(header.split(',').length, 180);
  });

  void test('the header never exceeds 8192 bytes and holds no partial member', () => {
    const header = written([
      ['a', { value: 'y'.repeat(4000) }],
      ['big', { value: 'x'.repeat(5000) }],
      ['small', { value: '1' }],
    ])!;
    assert.ok(header.length <= BAGGAGE_MAX_BYTES);
    assert.equal(header, `a=${'y'.repeat(4000)},small=1`);
  });

  void test('an empty map or a map with nothing valid writes no header', () => {
    assert.deepEqual(injectInto(baggage, { baggage: new Map() }), {});
    assert.deepEqual(injectInto(baggage, { baggage: new Map([['bad key', { value: 'x' }]]) }), {});
    assert.deepEqual(injectInto(baggage, {}), {});
  });

  void test('a malformed baggage object does not escape inject', () => {
    const weird = { notAMap: true } as unknown as Baggage;
    assert.deepEqual(injectInto(baggage, { baggage: weird }), {});
    const badEntries = new Map<string, BaggageEntry>([['a', null as unknown as BaggageEntry], ['b', { value: 2 as unknown as string }], ['c', { value: 'ok' }]]);
    assert.equal(injectInto(baggage, { baggage: badEntries }).baggage, 'c=ok');
  });

  void test('the same map injected twice gives the same header; a new map its own', () => {
    const m1 = new Map([['a', { value: '1' }]]);
    assert.equal(injectInto(baggage, { baggage: m1 }).baggage, 'a=1');
    assert.equal(injectInto(baggage, { baggage: m1 }).baggage, 'a=1');
    assert.equal(injectInto(baggage, { baggage: new Map([['b', { value: '2' }]]) }).baggage, 'b=2');
  });

  void test('inject then extract round-trips values and metadata', () => {
    const original = new Map<string, BaggageEntry>([
      ['user', { value: ' Amélie, "the" 100% ; \\ ', metadata: 'ttl=3;private' }],
      ['empty', { value: '' }],
      ['emoji', { value: '😀 ok' }],
    ]);
    const header = formatBaggage(original);
    assert.deepEqual(parseBaggage(header), original);
  });

  void test('fields is baggage', () => {
    assert.deepEqual(baggage.fields(), ['baggage']);
  });
});

void describe('percent-encoding helpers', () => {
  void test('lone surrogates are encoded as U+FFFD instead of throwing', () => {
    assert.equal(encodeBaggageValue('a\ud800b'), 'a%EF%BF%BDb');
    assert.equal(decodeBaggageValue(encodeBaggageValue('a\ud800b')), 'a\ufffdb');
  });

  void test('strings without anything to encode or decode are returned as they are', () => {
    const s = 'plain-value_1.2~';
    assert.equal(encodeBaggageValue(s), s);
    assert.equal(decodeBaggageValue(s), s);
  });
});
