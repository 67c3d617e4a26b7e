import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createSyncJob, defineJob, JobDefinitionError, type SyncJobDefinition } from '../src/index.js';
import { collectingTracing } from './helpers.js';

const write = (): void => undefined;

it('refuses a definition with missing pieces at start, naming the job and everything missing', () => {
  const bad = { name: 'shop-sync', entityType: 'shop', targets: [{ name: 'mysql:user_shop' }, { write }, { name: 'no scheme', write }] } as unknown as SyncJobDefinition<unknown>;
  assert.throws(
    () => createSyncJob(bad, collectingTracing()),
    (e: unknown) =>
      e instanceof JobDefinitionError &&
      e.job === 'shop-sync' &&
      e.message ===
        'sync job "shop-sync": missing fetch (how to read an entity from the source); missing targets[0].write; targets[1].name must be scheme:name (e.g. postgres:user_shop); targets[2].name must be scheme:name (e.g. postgres:user_shop)',
  );
});

it('names each kind of problem', () => {
  const cases: [unknown, RegExp][] = [
    [undefined, /^sync job "\(unnamed\)": the definition is not an object$/],
    [{ entityType: 'shop', fetch: write, targets: [{ name: 'a:b', write }] }, /^sync job "\(unnamed\)": missing name$/],
    [{ name: 'j', fetch: write, targets: [{ name: 'a:b', write }] }, /"j": missing entityType$/],
    [{ name: 'j', entityType: 'e', fetch: write, targets: [] }, /missing targets/],
    [{ name: 'j', entityType: 'e', fetch: write, targets: [{ name: 'a:b', write }, { name: 'a:b', write }] }, /targets\[1\]\.name a:b is given twice/],
    [{ name: 'j', entityType: 'e', fetch: write, targets: [{ name: 'a:b', write }], fetchTimeoutMs: 0, recentWindowMs: -1 }, /fetchTimeoutMs must be a positive number of ms; recentWindowMs/],
    [{ name: 'j', entityType: 'e', fetch: write, targets: [{ name: 'a:b', write }], retry: { maxAttempts: 0 } }, /retry\.maxAttempts must be an integer ≥ 1/],
    [{ name: 'j', entityType: 'e', fetch: write, targets: [{ name: 'a:b', write }], compareVersions: 3 }, /compareVersions must be a function/],
    [{ name: 'j', entityType: 'e', fetch: write, targets: [{ name: 'a:b', write }], tiers: { tiers: [{ name: 'active' }] } }, /tiers: tiers\[0\]\.periodMs must be a positive number of ms/],
    [{ name: 'j', entityType: 'e', fetch: write, targets: [{ name: 'a:b', write }], tiers: { tiers: [] } }, /tiers: missing tiers/],
  ];
  for (const [def, want] of cases) assert.throws(() => defineJob(def as SyncJobDefinition<unknown>), (e: unknown) => e instanceof JobDefinitionError && want.test(e.message), JSON.stringify(def));
});

it('accepts a complete definition unchanged', () => {
  const def: SyncJobDefinition<unknown> = { name: 'j', entityType: 'e', fetch: () => undefined, targets: [{ name: 'postgres:t', write }] };
  assert.equal(defineJob(def), def);
});
