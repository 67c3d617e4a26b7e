import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalJson, hashRecord } from '../src/reconcile/canonical-json.js';
import { compareStates } from '../src/reconcile/compare-states.js';
import { toRecordState } from '../src/reconcile/record-state.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth, so field order does not change the hash', () => {
    const a = { name: 'Shop', address: { zip: '1000', city: 'Lyon' }, tags: [{ b: 1, a: 2 }] };
    const b = { tags: [{ a: 2, b: 1 }], address: { city: 'Lyon', zip: '1000' }, name: 'Shop' };
    assert.equal(canonicalJson(a), '{"address":{"city":"Lyon","zip":"1000"},"name":"Shop","tags":[{"a":2,"b":1}]}');
    assert.equal(canonicalJson(b), canonicalJson(a));
    assert.equal(hashRecord(a), hashRecord(b));
    assert.equal(hashRecord(a), createHash('sha256').update(canonicalJson(a)).digest('hex'));
  });

  it('keeps array order and tells different values apart', () => {
    assert.notEqual(hashRecord([1, 2]), hashRecord([2, 1]));
    assert.notEqual(hashRecord({ n: 1 }), hashRecord({ n: '1' }));
    assert.notEqual(hashRecord({ a: null }), hashRecord({}));
  });

  it('writes values JSON has no form for the way JSON.stringify does, and bigints as strings', () => {
    assert.equal(canonicalJson({ u: undefined, f: () => 1, d: new Date(0), n: NaN, big: 10n, arr: [undefined] }),
      '{"arr":[null],"big":"10","d":"1970-01-01T00:00:00.000Z","n":null}');
  });

  it('throws on a cycle instead of looping', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    assert.throws(() => canonicalJson(a), /cycle/);
    // A shared (not cyclic) object is fine.
    const shared = { k: 1 };
    assert.equal(canonicalJson([shared, shared]), '[{"k":1},{"k":1}]');
  });
});

describe('toRecordState', () => {
  it('keeps versions (numbers as strings) and hashes; hashes payloads', () => {
    assert.deepEqual(toRecordState({ version: 7 }), { version: '7' });
    assert.deepEqual(toRecordState({ version: 'v7', hash: 'ab' }), { version: 'v7', hash: 'ab' });
    assert.deepEqual(toRecordState({ payload: { a: 1 } }), { hash: hashRecord({ a: 1 }) });
  });

  it('reads absence as no record', () => {
    assert.equal(toRecordState(undefined), undefined);
    assert.equal(toRecordState(null), undefined);
    assert.equal(toRecordState({ payload: null }), undefined);
  });

  it('rejects malformed results', () => {
    assert.throws(() => toRecordState('v7' as never), /not an object/);
    assert.throws(() => toRecordState({}), /neither/);
    assert.throws(() => toRecordState({ version: NaN }), /version/);
    assert.throws(() => toRecordState({ version: {} } as never), /version/);
    assert.throws(() => toRecordState({ hash: '' }), /hash/);
  });
});

describe('compareStates', () => {
  it('compares the fields both sides have', () => {
    assert.equal(compareStates({ version: '7' }, { version: '7' }), 'match');
    assert.equal(compareStates({ version: '7' }, { version: '6' }), 'mismatch');
    assert.equal(compareStates({ version: '7', hash: 'a' }, { version: '7', hash: 'b' }), 'mismatch');
    assert.equal(compareStates({ version: '7', hash: 'a' }, { hash: 'a' }), 'match');
    assert.equal(compareStates({ version: '7' }, { hash: 'a' }), 'unknown');
  });

  it('a record absent at the target is missing; absent at the source, nothing can be said', () => {
    assert.equal(compareStates({ version: '7' }, undefined), 'missing');
    assert.equal(compareStates(undefined, { version: '7' }), 'unknown');
    assert.equal(compareStates(undefined, undefined), 'unknown');
  });
});
