import { ATTR } from '@linktrace/model';
import type { StageSpan } from './stage-span.js';

/** The business record a stage handles: shop 42, version 7 (DESIGN §3). */
export interface StageEntity {
  /** Kind of record, e.g. `shop`. Required, non-empty. */
  readonly type: string;
  /** The record's id. A number is recorded as its decimal string, so `42` and `'42'` name one record. */
  readonly key: string | number;
  /** Optional; recorded as given (number or string). */
  readonly version?: number | string;
}

/** The valid parts of an entity, read once per stage call into a reused object. */
export class EntityFields {
  type: string | undefined = undefined;
  key: string | undefined = undefined;
  version: number | string | undefined = undefined;

  /**
   * Reads `entity`, keeping the parts that are valid. Returns false when anything was missing or of the
   * wrong type (a version may be absent). Never throws, even on an object whose getters do.
   */
  read(entity: unknown): boolean {
    this.type = undefined;
    this.key = undefined;
    this.version = undefined;
    if (entity === null || typeof entity !== 'object') return false;
    let valid = true;
    try {
      const { type, key, version } = entity as Record<string, unknown>;
      if (typeof type === 'string' && type.length > 0) this.type = type;
      else valid = false;
      if (typeof key === 'string' && key.length > 0) this.key = key;
      else if (typeof key === 'number' && Number.isFinite(key)) this.key = String(key);
      else valid = false;
      if ((typeof version === 'number' && Number.isFinite(version)) || (typeof version === 'string' && version.length > 0)) {
        this.version = version;
      } else if (version !== undefined && version !== null) {
        valid = false;
      }
    } catch {
      return false;
    }
    return valid;
  }

  /** Sets the entity attributes of the parts that were valid. */
  write(span: StageSpan): void {
    if (this.type !== undefined) span.setAttribute(ATTR.entityType, this.type);
    if (this.key !== undefined) span.setAttribute(ATTR.entityKey, this.key);
    if (this.version !== undefined) span.setAttribute(ATTR.entityVersion, this.version);
  }
}
