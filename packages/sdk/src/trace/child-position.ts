import { RPCID_MAX_LENGTH } from '@linktrace/model';

/**
 * Positions of our own spans are valid by construction and remote ones are validated when extracted,
 * so the hot path only bounds the length: past the bound, calls share their parent's position.
 */
export function childPosition(parent: string, index: number): string {
  return parent.length <= RPCID_MAX_LENGTH - 11 ? `${parent}.${index}` : parent;
}
