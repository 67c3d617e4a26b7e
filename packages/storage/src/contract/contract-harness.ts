/** How the contract suite gets stores from a backend, and small helpers its parts share. */
import assert from 'node:assert/strict';
import type { SpanStore } from '../types.js';
import { StorageInputError } from '../storage-error.js';

export interface ContractStore {
  /** A store over fresh, empty storage. */
  store: SpanStore;
  /**
   * Opens the same storage again after the suite has closed `store` (the reopen test). Omit for a
   * backend that keeps nothing across instances; the reopen test is then skipped.
   */
  reopen?: () => Promise<SpanStore>;
  /** Removes what the store left behind (temp directories, databases); called after the last close. */
  dispose?: () => Promise<void>;
}

/** What a test asks of the stores a factory makes (the same for `store` and `reopen`). */
export interface ContractStoreOptions {
  /**
   * The store's clock, ms since the epoch, which retention counts arrival by (DESIGN §6). Every
   * backend must take one, so the retention tests can move time instead of waiting for it.
   */
  clock?: () => number;
}

export type CreateContractStore = (options?: ContractStoreOptions) => Promise<ContractStore>;

/** Runs `fn` with a fresh store, closing and disposing of it afterwards whatever happens. */
export async function withStore(
  create: CreateContractStore,
  fn: (store: SpanStore, handle: ContractStore) => Promise<void>,
  options?: ContractStoreOptions,
): Promise<void> {
  const handle = await create(options);
  let current = handle.store;
  const tracked: ContractStore = {
    ...handle,
    store: current,
    reopen: handle.reopen && (async () => (current = await handle.reopen!())),
  };
  try {
    await fn(current, tracked);
  } finally {
    await current.close();
    await handle.dispose?.();
  }
}

/** Asserts that `p` rejects with a StorageInputError of `code`. */
export async function rejectsInput(p: Promise<unknown>, code: StorageInputError['code'], field?: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof StorageInputError, `expected a StorageInputError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (field !== undefined) assert.equal(err.field, field);
    return true;
  });
}
