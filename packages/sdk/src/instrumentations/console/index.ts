import type { Instrumentation } from '../core/instrumentation.js';
import { activeLogFields } from '../core/log-fields.js';
import { unwrap, wrap } from '../core/shim.js';

const METHODS = ['log', 'info', 'warn', 'error', 'debug'] as const;
type ConsoleMethod = (typeof METHODS)[number];
type Log = (...args: unknown[]) => void;

/**
 * Prefixes what `console.log/info/warn/error/debug` print while a span is active with
 * `trace_id=<32 hex> span_id=<16 hex> rpcid=<rpcid> `. Outside a span nothing changes.
 *
 * Opt-in (it changes what a service prints, which may be parsed): enable it by name.
 * The prefix goes in front of the first argument when that is a string, so a format string
 * (`console.log('%s: %d', a, b)`) keeps its meaning; otherwise it becomes the first argument.
 * Calls without arguments (blank lines) are left alone.
 */
export function consoleInstrumentation(): Instrumentation {
  return {
    name: 'console',
    enable() {
      for (const method of METHODS) wrap(console, method, (original) => prefixed(original));
    },
    disable() {
      for (const method of METHODS) unwrap(console, method as ConsoleMethod);
    },
  };
}

/** `trace_id=… span_id=… rpcid=…` for the active span, or undefined outside a span. */
export function consolePrefix(): string | undefined {
  const fields = activeLogFields();
  if (fields === undefined) return undefined;
  return `trace_id=${fields.trace_id} span_id=${fields.span_id} rpcid=${fields.rpcid}`;
}

function prefixed(original: Log): Log {
  return function linktraceConsole(this: unknown, ...args: unknown[]): void {
    const prefix = args.length === 0 ? undefined : consolePrefix();
    if (prefix === undefined) {
      original.apply(this, args);
      return;
    }
    if (typeof args[0] === 'string') args[0] = `${prefix} ${args[0]}`;
    else args.unshift(prefix);
    original.apply(this, args);
  };
}
