import type { Sampler } from '../types.js';
import { adaptiveSampler } from './adaptive.js';
import { alwaysOff } from './always-off.js';
import { alwaysOn } from './always-on.js';
import { forceSampling } from './force-sampling.js';
import { parentBasedSampler } from './parent-based.js';
import { rateLimitedSampler } from './rate-limited.js';
import { traceIdRatioSampler } from './trace-id-ratio.js';

export interface SamplerFromEnvOptions {
  /** Receives one message per ignored or invalid setting. Default: `process.emitWarning`. */
  warn?: (message: string) => void;
  /** Wrap the result in `forceSampling` (debug flag / `linktrace.debug` baggage). Default true; never for `always_off`. */
  force?: boolean;
  /** Clock passed to the rate-limited and adaptive samplers (tests). */
  now?: () => number;
}

export const DEFAULT_RATE_TRACES_PER_SECOND = 100;
export const DEFAULT_ADAPTIVE_SPANS_PER_SECOND = 1000;
const DEFAULT_SAMPLER = 'parentbased_always_on';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Builds the sampler named by `OTEL_TRACES_SAMPLER` with its `OTEL_TRACES_SAMPLER_ARG`:
 * `always_on`, `always_off`, `traceidratio` (arg: ratio 0..1, default 1), `parentbased_always_on`
 * (the default when unset), `parentbased_always_off`, `parentbased_traceidratio`, and two of ours,
 * `linktrace_rate` (arg: traces per second, default 100) and `linktrace_adaptive` (arg: spans per
 * second, default 1000), both as the root of a parent-based sampler. Names are case-insensitive.
 * Never throws: an unknown name or bad argument is reported through `warn` and the default is used.
 */
export function parseSamplerFromEnv(env: Env = process.env, options: SamplerFromEnvOptions = {}): Sampler {
  const warn = options.warn ?? ((m: string) => process.emitWarning(m, 'LinktraceWarning'));
  const rawName = env['OTEL_TRACES_SAMPLER'];
  const rawArg = env['OTEL_TRACES_SAMPLER_ARG'];
  let name = typeof rawName === 'string' ? rawName.trim().toLowerCase() : '';
  if (name === '') name = DEFAULT_SAMPLER;
  const arg = typeof rawArg === 'string' && rawArg.trim() !== '' ? rawArg.trim() : undefined;

  const number = (fallback: number, ok: (n: number) => boolean, what: string): number => {
    if (arg === undefined) return fallback;
    const n = Number(arg);
    if (ok(n)) return n;
    warn(`OTEL_TRACES_SAMPLER_ARG=${JSON.stringify(rawArg)} is not ${what} for ${name}; using ${fallback}`);
    return fallback;
  };
  const ratio = (): number => number(1, (n) => n >= 0 && n <= 1, 'a ratio in 0..1');
  const ignoreArg = (): void => {
    if (arg !== undefined) warn(`OTEL_TRACES_SAMPLER_ARG is ignored for ${name}`);
  };

  let sampler: Sampler;
  switch (name) {
    case 'always_on':
      ignoreArg();
      sampler = alwaysOn();
      break;
    case 'always_off':
      ignoreArg();
      return alwaysOff();
    case 'traceidratio':
      sampler = traceIdRatioSampler(ratio());
      break;
    case 'parentbased_always_on':
      ignoreArg();
      sampler = parentBasedSampler({ root: alwaysOn() });
      break;
    case 'parentbased_always_off':
      ignoreArg();
      sampler = parentBasedSampler({ root: alwaysOff() });
      break;
    case 'parentbased_traceidratio':
      sampler = parentBasedSampler({ root: traceIdRatioSampler(ratio()) });
      break;
    case 'linktrace_rate': {
      const tracesPerSecond = number(DEFAULT_RATE_TRACES_PER_SECOND, (n) => Number.isFinite(n) && n >= 0, 'a number >= 0');
      sampler = parentBasedSampler({ root: rateLimitedSampler({ tracesPerSecond, now: options.now }) });
      break;
    }
    case 'linktrace_adaptive': {
      const spansPerSecond = number(DEFAULT_ADAPTIVE_SPANS_PER_SECOND, (n) => Number.isFinite(n) && n > 0, 'a number > 0');
      sampler = parentBasedSampler({ root: adaptiveSampler({ spansPerSecond, now: options.now }) });
      break;
    }
    default:
      warn(`OTEL_TRACES_SAMPLER=${JSON.stringify(rawName)} is not supported; using ${DEFAULT_SAMPLER}`);
      sampler = parentBasedSampler({ root: alwaysOn() });
  }
  return options.force === false ? sampler : forceSampling(sampler);
}
