// Test support for the packages that check traces (`@linktrace/analysis/testing`): fixtures only,
// never imported by the analysis code itself.
export { SHOP, ID, shopSyncSpans, without, byId, startRecord } from './shop-sync.js';
export { generateLogs, seededRandom } from './infer-generator.js';
export type { GeneratorOptions, GeneratedLogs } from './infer-generator.js';
export { scoreLinks } from './infer-score.js';
export type { LinkScore } from './infer-score.js';
export { nestingBaseline, connectionBaseline } from './infer-baselines.js';
