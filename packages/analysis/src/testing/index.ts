// Test support for the packages that check traces (`@linktrace/analysis/testing`): fixtures only,
// never imported by the analysis code itself.
export { SHOP, ID, shopSyncSpans, without, byId, startRecord } from './shop-sync.js';
