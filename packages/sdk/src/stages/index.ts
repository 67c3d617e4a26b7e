export type { StageEntity } from './entity.js';
export { markStage } from './mark-stage.js';
export type { StageCounters } from './stage-counters.js';
export type { IncomingStageOptions, StageOptions } from './stage-options.js';
export type { StageSpan } from './stage-span.js';
export { Stages, STAGES_SCOPE, stagesFor, type StagesConfig } from './stages.js';
export { isSchemeName } from './target.js';
