import type { Sampler } from '../types.js';

const ALWAYS_OFF: Sampler = Object.freeze({
  shouldSample: (): boolean => false,
  toString: (): string => 'AlwaysOff',
});

/** Records no span. */
export function alwaysOff(): Sampler {
  return ALWAYS_OFF;
}
