import type { Attributes, Stage } from '@linktrace/model';
import { EntityFields } from '../../stages/entity.js';
import { applyStage } from '../../stages/mark-stage.js';

// Never read into: an automatic span knows the hop, not the business record (users add it with markStage).
const NO_ENTITY = new EntityFields();

/**
 * The DESIGN §3 stage attributes of an automatic queue span, written by the stage API's own code so
 * that they match what `markStage` and `stages.enqueue` record: `linktrace.stage`, and for an
 * enqueue `linktrace.target` = `mq:<destination>`.
 */
export function stageAttributes(stage: Stage, attributes: Attributes, destination?: string): Attributes {
  const target = stage === 'enqueue' && destination !== undefined && destination.length > 0 ? `mq:${destination}` : undefined;
  applyStage({ setAttribute: (key, value) => (attributes[key] = value) }, stage, NO_ENTITY, true, target);
  return attributes;
}
