/**
 * The shared shop-sync fixture (`src/testing/shop-sync.ts`) on a fixed clock, for the chain-check tests.
 */
import type { Span } from '@linktrace/model';
import { shopSyncSpans } from '../src/testing/index.js';

export { ID, SHOP, byId, startRecord, without } from '../src/testing/index.js';

export const T0 = 1_700_000_000_000_000;
export const TRACE = '0123456789abcdef0123456789abcdef';
/** 31 s after the trace started: past the default 30 s deadline. */
export const LATER = T0 + 31_000_000;

/** A fresh healthy trace (new objects every call, so tests may change them). */
export function shopSync(): Span[] {
  return shopSyncSpans(TRACE, T0);
}
