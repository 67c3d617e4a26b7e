import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Attributes } from '@linktrace/model';
import { bagNeedle, decodeBag, encodeBag, escapeText, unescapeText, valueText } from '../src/embedded/text-codec.js';

// ESC itself may appear: it starts each escape. The separators and NUL may not.
// eslint-disable-next-line no-control-regex
const SEPARATORS = /[\x00\x1c-\x1f]/;
const awkward = fc.string({ unit: fc.oneof(fc.constantFrom('\x00', '\x1b', '\x1c', '\x1d', '\x1e', '\x1f', '=', ' '), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })) });
const value = fc.oneof(
  awkward,
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
  fc.integer(),
  fc.boolean(),
  fc.array(fc.oneof(fc.string(), fc.integer(), fc.boolean())),
  fc.uint8Array(),
);

describe('text codec', () => {
  it('escapes every separator and NUL, and unescapes to the original', () => {
    fc.assert(
      fc.property(awkward, (s) => {
        const e = escapeText(s);
        assert.ok(!SEPARATORS.test(e), JSON.stringify(e));
        assert.equal(unescapeText(e), s);
      }),
      { numRuns: 2000 },
    );
    const plain = 'plain text, 漢字';
    assert.equal(escapeText(plain), plain, 'ordinary text is returned as is');
  });

  it('round-trips attribute bags of any keys and values', () => {
    fc.assert(
      fc.property(fc.dictionary(awkward, value, { noNullPrototype: true }), (attrs: Attributes) => {
        assert.deepStrictEqual(decodeBag(encodeBag(attrs)), attrs);
      }),
      { numRuns: 500 },
    );
    assert.deepStrictEqual(decodeBag(''), {});
    const proto: Attributes = {};
    Object.defineProperty(proto, '__proto__', { value: 'x', enumerable: true, writable: true, configurable: true });
    assert.deepStrictEqual(decodeBag(encodeBag(proto)), proto, 'a key named __proto__ stays an attribute');
  });

  it('finds a key = value needle in a bag exactly when that pair is in it', () => {
    fc.assert(
      fc.property(fc.dictionary(awkward, fc.oneof(awkward, fc.integer()), { noNullPrototype: true }), awkward, fc.oneof(awkward, fc.integer()), (attrs, key, v) => {
        const bag = encodeBag(attrs);
        const present = Object.hasOwn(attrs, key) && String(attrs[key]) === String(v);
        assert.equal(bag.includes(bagNeedle(key, valueText(v))), present);
      }),
      { numRuns: 1000 },
    );
  });
});
