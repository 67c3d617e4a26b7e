/** Contract: findings are stored, replaced per (trace, rule, span), filtered and refused when malformed. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Finding } from '../types.js';
import { spanIdOf, T0, traceIdOf } from './contract-spans.js';
import { rejectsInput, withStore } from './contract-harness.js';
import type { CreateContractStore } from './contract-harness.js';

function finding(n: number, over: Partial<Finding> = {}): Finding {
  return {
    traceId: traceIdOf(n),
    rule: 'missing-write',
    service: 'sync-worker',
    spanId: spanIdOf(n, 0),
    message: `shop ${n} received but never written`,
    timeUs: T0 + n * 1000,
    ...over,
  };
}

export function findingsContract(create: CreateContractStore): void {
  describe('findings', () => {
    const all: Finding[] = [
      finding(1, { entity: { type: 'shop', key: '1', version: '7' }, target: 'mysql:shops', rpcid: '0.2.1' }),
      finding(2, { rule: 'not-consumed', service: 'publisher', target: 'mq:shops' }),
      finding(3, { rule: 'stage-error', entity: { type: 'shop', key: '3' } }),
      finding(4, { rule: 'not-consumed', service: 'publisher' }),
      { ...finding(5, { rule: 'unfinished-span' }), traceId: '463ac35c9f6413ad' },
    ];
    const newestFirst = (fs: Finding[]): Finding[] => [...fs].sort((a, b) => b.timeUs - a.timeUs);

    it('stores findings and filters them by trace, rule, service and time, newest first', async () => {
      await withStore(create, async (store) => {
        await store.writeFindings(all);
        assert.deepStrictEqual(await store.findFindings(), newestFirst(all));
        assert.deepStrictEqual(await store.findFindings({}), newestFirst(all));
        assert.deepStrictEqual(await store.findFindings({ traceId: traceIdOf(3) }), [all[2]]);
        assert.deepStrictEqual(await store.findFindings({ rule: 'not-consumed' }), [all[3], all[1]]);
        assert.deepStrictEqual(await store.findFindings({ service: 'publisher', rule: 'not-consumed', startUs: T0 + 4000 }), [all[3]]);
        assert.deepStrictEqual(await store.findFindings({ startUs: T0 + 2000, endUs: T0 + 3000 }), [all[2], all[1]]);
        assert.deepStrictEqual(await store.findFindings({ limit: 2 }), [all[4], all[3]]);
        assert.deepStrictEqual(await store.findFindings({ service: 'nobody' }), []);
        assert.deepStrictEqual(await store.findFindings({ traceId: 'not-an-id' }), []);
      });
    });

    it('finds a finding of a Zipkin 64-bit trace by the 16-hex id and by its padded form', async () => {
      await withStore(create, async (store) => {
        await store.writeFindings(all);
        assert.deepStrictEqual(await store.findFindings({ traceId: '463ac35c9f6413ad' }), [all[4]]);
        assert.deepStrictEqual(await store.findFindings({ traceId: '0000000000000000463ac35c9f6413ad' }), [all[4]]);
      });
    });

    it('replaces a finding of the same trace, rule and span', async () => {
      await withStore(create, async (store) => {
        await store.writeFindings([finding(1), finding(1, { rule: 'duplicate-write' })]);
        const again = finding(1, { message: 'still not written after 60 s', timeUs: T0 + 99_000 });
        await store.writeFindings([again]);
        assert.deepStrictEqual(await store.findFindings({ traceId: traceIdOf(1) }), [again, finding(1, { rule: 'duplicate-write' })]);
      });
    });

    it('replaces the whole set of findings of re-checked traces, leaving other traces alone', async () => {
      await withStore(create, async (store) => {
        await store.writeFindings(all);
        const cleared = finding(2, { rule: 'duplicate-write', service: 'sync-worker', message: 'written twice' });
        await store.replaceFindings([traceIdOf(1), traceIdOf(2)], [cleared]);
        assert.deepStrictEqual(await store.findFindings({ traceId: traceIdOf(1) }), []);
        assert.deepStrictEqual(await store.findFindings({ traceId: traceIdOf(2) }), [cleared]);
        assert.deepStrictEqual(await store.findFindings({ traceId: traceIdOf(3) }), [all[2]]);
        await store.replaceFindings(['0000000000000000463ac35c9f6413ad'], []);
        assert.deepStrictEqual(await store.findFindings({ traceId: '463ac35c9f6413ad' }), []);
        await rejectsInput(store.replaceFindings([traceIdOf(3)], [finding(4)]), 'invalid_finding', 'findings[0].traceId');
        await rejectsInput(store.replaceFindings(['xyz'], []), 'invalid_finding', 'traceIds[0]');
        assert.deepStrictEqual(await store.findFindings({ traceId: traceIdOf(3) }), [all[2]], 'a refused call changes nothing');
      });
    });

    const bad: [string, unknown, string][] = [
      ['an unknown rule', { ...finding(1), rule: 'missing_write' }, 'findings[0].rule'],
      ['a malformed trace id', { ...finding(1), traceId: 'xyz' }, 'findings[0].traceId'],
      ['a missing message', { ...finding(1), message: undefined }, 'findings[0].message'],
      ['a negative time', { ...finding(1), timeUs: -5 }, 'findings[0].timeUs'],
      ['an entity without key', { ...finding(1), entity: { type: 'shop' } }, 'findings[0].entity'],
      ['a target that is not text', { ...finding(1), target: 5 }, 'findings[0].target'],
      ['an rpcid that is not text', { ...finding(1), rpcid: 0.1 }, 'findings[0].rpcid'],
    ];
    for (const [what, f, field] of bad) {
      it(`refuses ${what}`, async () => {
        await withStore(create, async (store) => {
          await rejectsInput(store.writeFindings([f as Finding]), 'invalid_finding', field);
          assert.deepStrictEqual(await store.findFindings(), []);
        });
      });
    }

    it('refuses a malformed filter', async () => {
      await withStore(create, async (store) => {
        await rejectsInput(store.findFindings({ rule: 'nope' as Finding['rule'] }), 'invalid_query', 'rule');
        await rejectsInput(store.findFindings({ limit: 0 }), 'invalid_query', 'limit');
        await rejectsInput(store.findFindings({ startUs: Number.POSITIVE_INFINITY }), 'invalid_query', 'startUs');
        await rejectsInput(store.findFindings('rule=x' as unknown as undefined), 'invalid_query', 'filter');
      });
    });
  });
}
