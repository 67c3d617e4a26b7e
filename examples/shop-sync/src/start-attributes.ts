import { ATTR, type Attributes, type Stage } from '@linktrace/model';

/**
 * The stage and entity attributes, given to a stage helper as start attributes. The SDK takes a
 * span's start record before the helper sets the stage attributes, so without these a crashed hop
 * would show as started with no stage or entity, and a checker could not name the record it lost.
 */
export function startAttributes(stage: Stage, entity: { type: string; key: string; version: number }): Attributes {
  return { [ATTR.stage]: stage, [ATTR.entityType]: entity.type, [ATTR.entityKey]: entity.key, [ATTR.entityVersion]: entity.version };
}
