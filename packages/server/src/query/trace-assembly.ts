/**
 * The storage layer's trace-assembly helpers (packages/storage/src/trace-assembly). They are not
 * exported from `@linktrace/storage` yet, so this one file loads them from the package's build,
 * located through the package's own entry point. Once the storage index exports them, this file
 * becomes: export { adjustClockSkew, buildRpcidTree, findOrphans, parentIndexes } from '@linktrace/storage';
 */
import type * as ClockSkew from '../../../storage/src/trace-assembly/clock-skew.js';
import type * as MissingParents from '../../../storage/src/trace-assembly/missing-parents.js';
import type * as ParentIndex from '../../../storage/src/trace-assembly/parent-index.js';
import type * as RpcidTree from '../../../storage/src/trace-assembly/rpcid-tree.js';

export type { RpcidNode, RpcidTree } from '../../../storage/src/trace-assembly/rpcid-tree.js';
export type { SkewAdjustment, SkewResult } from '../../../storage/src/trace-assembly/clock-skew.js';

const entry = import.meta.resolve('@linktrace/storage');
const load = <T>(file: string): Promise<T> => import(new URL(`./trace-assembly/${file}`, entry).href) as Promise<T>;

const [clockSkew, missingParents, parentIndex, rpcidTree] = await Promise.all([
  load<typeof ClockSkew>('clock-skew.js'),
  load<typeof MissingParents>('missing-parents.js'),
  load<typeof ParentIndex>('parent-index.js'),
  load<typeof RpcidTree>('rpcid-tree.js'),
]);

export const adjustClockSkew = clockSkew.adjustClockSkew;
export const findOrphans = missingParents.findOrphans;
export const parentIndexes = parentIndex.parentIndexes;
export const buildRpcidTree = rpcidTree.buildRpcidTree;
