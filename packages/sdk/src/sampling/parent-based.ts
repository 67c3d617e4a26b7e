import { TRACE_FLAG_SAMPLED } from '../types.js';
import type { Sampler, SamplingInput } from '../types.js';
import { alwaysOff } from './always-off.js';
import { alwaysOn } from './always-on.js';

export interface ParentBasedOptions {
  /** Decides for spans without a parent (new traces). */
  root: Sampler;
  /** Parent from another process, sampled. Default: always on. */
  remoteParentSampled?: Sampler;
  /** Parent from another process, not sampled. Default: always off. */
  remoteParentNotSampled?: Sampler;
  /** Parent in this process, sampled. Default: always on. */
  localParentSampled?: Sampler;
  /** Parent in this process, not sampled. Default: always off. */
  localParentNotSampled?: Sampler;
}

class ParentBasedSampler implements Sampler {
  /** Present only when a delegate adapts to ended spans, so the tracer can skip the call otherwise. */
  readonly onSampledSpanEnd?: () => void;

  constructor(
    private readonly root: Sampler,
    private readonly remoteSampled: Sampler,
    private readonly remoteNotSampled: Sampler,
    private readonly localSampled: Sampler,
    private readonly localNotSampled: Sampler,
  ) {
    // Each distinct delegate is told once, even when it fills several roles.
    const hooks = [...new Set([root, remoteSampled, remoteNotSampled, localSampled, localNotSampled])]
      .filter((s) => typeof s.onSampledSpanEnd === 'function');
    if (hooks.length === 1) {
      const only = hooks[0]!;
      this.onSampledSpanEnd = () => only.onSampledSpanEnd!();
    } else if (hooks.length > 1) {
      this.onSampledSpanEnd = () => {
        for (let i = 0; i < hooks.length; i++) hooks[i]!.onSampledSpanEnd!();
      };
    }
  }

  shouldSample(input: SamplingInput): boolean {
    const parent = input.parent;
    if (parent === undefined) return this.root.shouldSample(input);
    const sampled = (parent.traceFlags & TRACE_FLAG_SAMPLED) !== 0;
    if (parent.isRemote === true) {
      return (sampled ? this.remoteSampled : this.remoteNotSampled).shouldSample(input);
    }
    return (sampled ? this.localSampled : this.localNotSampled).shouldSample(input);
  }

  toString(): string {
    return (
      `ParentBased{root=${String(this.root)}, remoteParentSampled=${String(this.remoteSampled)}, ` +
      `remoteParentNotSampled=${String(this.remoteNotSampled)}, localParentSampled=${String(this.localSampled)}, ` +
      `localParentNotSampled=${String(this.localNotSampled)}}`
    );
  }
}

/**
 * Follows the parent's sampled flag (as OpenTelemetry's ParentBased does) and asks `root` for new
 * traces. Each of the four parent cases can be given its own sampler. `onSampledSpanEnd` is passed
 * on to every delegate that wants it, so an adaptive root sees the spans of the traces it started.
 */
export function parentBasedSampler(options: ParentBasedOptions): Sampler {
  if (options === null || typeof options !== 'object' || !isSampler(options.root)) {
    throw new TypeError('parentBasedSampler: options.root must be a Sampler');
  }
  const pick = (s: Sampler | undefined, fallback: Sampler, name: string): Sampler => {
    if (s === undefined) return fallback;
    if (!isSampler(s)) throw new TypeError(`parentBasedSampler: options.${name} must be a Sampler`);
    return s;
  };
  return new ParentBasedSampler(
    options.root,
    pick(options.remoteParentSampled, alwaysOn(), 'remoteParentSampled'),
    pick(options.remoteParentNotSampled, alwaysOff(), 'remoteParentNotSampled'),
    pick(options.localParentSampled, alwaysOn(), 'localParentSampled'),
    pick(options.localParentNotSampled, alwaysOff(), 'localParentNotSampled'),
  );
}

function isSampler(s: unknown): s is Sampler {
  return typeof s === 'object' && s !== null && typeof (s as Sampler).shouldSample === 'function';
}
