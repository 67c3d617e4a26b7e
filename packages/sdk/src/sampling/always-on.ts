import type { Sampler } from '../types.js';

const ALWAYS_ON: Sampler = Object.freeze({
  shouldSample: (): boolean => true,
  toString: (): string => 'AlwaysOn',
});

/** Records every span. */
export function alwaysOn(): Sampler {
  return ALWAYS_ON;
}
