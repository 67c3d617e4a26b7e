import { parseSamplerFromEnv } from '../sampling/from-env.js';
import type { Sampler } from '../types.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** What `@linktrace/sdk/register` reads from the environment, already validated. */
export interface EnvConfig {
  /** `LINKTRACE_DISABLED=true` (or `OTEL_SDK_DISABLED=true`): do nothing at all. */
  disabled: boolean;
  service: string;
  /** `LINKTRACE_INSTANCE`: the instance recorded on every span (federated hops are named by it). */
  instance: string | undefined;
  /** Full OTLP/HTTP traces URL. */
  tracesUrl: string;
  encoding: 'protobuf' | 'json';
  headers: Record<string, string>;
  sampler: Sampler;
  /** Names of the instrumentations to enable, in registry order (default set, then opt-in ones). */
  instrumentations: string[];
  captureValues: boolean;
  /** W3C parent handed over by a launcher (`TRACEPARENT`, `TRACESTATE`). */
  traceparent: string | undefined;
  tracestate: string | undefined;
}

export const DEFAULT_SERVICE = 'unknown_service:node';
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4318';

/**
 * Reads the configuration from environment variables. Never throws: a bad value is reported
 * through `warn` (once per variable) and its default is used.
 */
export function configFromEnv(
  env: Env,
  builtins: readonly string[],
  warn: (message: string) => void,
  optIn: readonly string[] = [],
): EnvConfig {
  const disabled = flag(env, 'LINKTRACE_DISABLED', warn) || flag(env, 'OTEL_SDK_DISABLED', warn);
  const service = text(env['LINKTRACE_SERVICE']) ?? text(env['OTEL_SERVICE_NAME']) ?? DEFAULT_SERVICE;
  return {
    disabled,
    service,
    instance: text(env['LINKTRACE_INSTANCE']),
    tracesUrl: tracesUrl(env, warn),
    encoding: encoding(env, warn),
    headers: headers(env),
    sampler: sampler(env, warn),
    instrumentations: instrumentationNames(env, builtins, optIn, warn),
    captureValues: flag(env, 'LINKTRACE_CAPTURE_VALUES', warn),
    traceparent: text(env['TRACEPARENT']),
    tracestate: text(env['TRACESTATE']),
  };
}

function text(value: string | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function flag(env: Env, name: string, warn: (message: string) => void): boolean {
  const value = text(env[name])?.toLowerCase();
  if (value === undefined || FALSE.has(value)) return false;
  if (TRUE.has(value)) return true;
  warn(`${name}=${JSON.stringify(env[name])} is not true or false; using false`);
  return false;
}

/** A base URL given by the user, checked; undefined (after a warning) when unusable. */
function httpUrl(name: string, value: string | undefined, warn: (message: string) => void): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.href;
  } catch {
    // reported below
  }
  warn(`${name}=${JSON.stringify(value)} is not an http(s) URL; ignored`);
  return undefined;
}

function joinPath(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}

function tracesUrl(env: Env, warn: (message: string) => void): string {
  const linktrace = httpUrl('LINKTRACE_ENDPOINT', text(env['LINKTRACE_ENDPOINT']), warn);
  if (linktrace !== undefined) return joinPath(linktrace, '/v1/traces');
  const traces = httpUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', text(env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']), warn);
  if (traces !== undefined) return traces;
  const otlp = httpUrl('OTEL_EXPORTER_OTLP_ENDPOINT', text(env['OTEL_EXPORTER_OTLP_ENDPOINT']), warn);
  if (otlp !== undefined) return joinPath(otlp, '/v1/traces');
  return `${DEFAULT_ENDPOINT}/v1/traces`;
}

function encoding(env: Env, warn: (message: string) => void): 'protobuf' | 'json' {
  const name = 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL';
  const raw = text(env[name]) !== undefined ? name : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const value = text(env[raw])?.toLowerCase();
  if (value === undefined || value === 'http/protobuf') return 'protobuf';
  if (value === 'http/json') return 'json';
  warn(`${raw}=${JSON.stringify(env[raw])} is not supported (http/protobuf or http/json); using http/protobuf`);
  return 'protobuf';
}

function headers(env: Env): Record<string, string> {
  const token = text(env['LINKTRACE_TOKEN']);
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

function sampler(env: Env, warn: (message: string) => void): Sampler {
  const ratioText = text(env['LINKTRACE_SAMPLE_RATIO']);
  if (ratioText !== undefined && text(env['OTEL_TRACES_SAMPLER']) === undefined) {
    const ratio = Number(ratioText);
    if (ratioText !== '' && ratio >= 0 && ratio <= 1) {
      return parseSamplerFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: ratioText }, { warn });
    }
    warn(`LINKTRACE_SAMPLE_RATIO=${JSON.stringify(env['LINKTRACE_SAMPLE_RATIO'])} is not a ratio in 0..1; ignored`);
  } else if (ratioText !== undefined) {
    warn('LINKTRACE_SAMPLE_RATIO is ignored because OTEL_TRACES_SAMPLER is set');
  }
  return parseSamplerFromEnv(env, { warn });
}

function list(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
}

function instrumentationNames(env: Env, builtins: readonly string[], optIn: readonly string[], warn: (message: string) => void): string[] {
  const all = [...builtins, ...optIn];
  const known = (names: string[], variable: string): string[] =>
    names.filter((name) => {
      if (all.includes(name) || name === 'all') return true;
      warn(`${variable}: unknown instrumentation ${JSON.stringify(name)} ignored (known: ${all.join(', ')})`);
      return false;
    });
  const rawEnabled = text(env['LINKTRACE_INSTRUMENTATIONS']);
  let enabled: string[];
  if (rawEnabled === undefined) enabled = [...builtins];
  else if (rawEnabled.toLowerCase() === 'none') enabled = [];
  else {
    enabled = known(list(rawEnabled), 'LINKTRACE_INSTRUMENTATIONS');
    if (enabled.length === 0) {
      warn('LINKTRACE_INSTRUMENTATIONS names no known instrumentation; using the default set (set it to none to enable none)');
      enabled = [...builtins];
    }
    // `all` is the default set; opt-in ones (console) are added by name: `all,console`.
    if (enabled.includes('all')) enabled.push(...builtins);
  }
  const disabled = known(list(text(env['LINKTRACE_DISABLED_INSTRUMENTATIONS'])), 'LINKTRACE_DISABLED_INSTRUMENTATIONS');
  return all.filter((name) => enabled.includes(name) && !disabled.includes(name));
}
