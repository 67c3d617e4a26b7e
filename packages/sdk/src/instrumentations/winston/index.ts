import type { Instrumentation, ModuleTarget } from '../core/instrumentation.js';
import { activeLogFields } from '../core/log-fields.js';
import { isWrapped, originalOf, wrap } from '../core/shim.js';
import { requireMajor } from '../core/version-range.js';

type Write = (this: unknown, info: unknown, ...rest: unknown[]) => boolean;
interface WinstonExports {
  Logger?: { prototype?: { write?: unknown } };
}
type LoggerPrototype = { write: Write };

const patchedPrototypes = new WeakMap<object, LoggerPrototype>();

/**
 * Adds `trace_id`, `span_id` and `rpcid` to every winston record written while a span is active.
 *
 * The fields are set when the record enters the logger (`Logger.prototype.write`, which every
 * logger — `createLogger`, `winston.loggers`, the default logger, `child()` — funnels into), not in
 * a format: winston runs formats later when a slow transport buffers records, by which time a
 * different span may be active. Formats (json, printf, …) then see the fields like any other.
 */
export function winstonInstrumentation(): Instrumentation {
  return { name: 'winston', targets: [winstonTarget] };
}

const winstonTarget: ModuleTarget = {
  package: 'winston',
  patch(exports, _ctx, loaded) {
    requireMajor('winston', loaded.version, 3, 3);
    const proto = (exports as WinstonExports | null)?.Logger?.prototype;
    if (proto === undefined || typeof proto.write !== 'function') throw new Error('unexpected export shape: no winston.Logger.prototype.write');
    const loggerProto = proto as LoggerPrototype;
    patchedPrototypes.set(exports as object, loggerProto);
    wrap(loggerProto, 'write', (original) =>
      function linktraceWrite(this: unknown, info: unknown, ...rest: unknown[]): boolean {
        if (info !== null && typeof info === 'object') {
          const fields = activeLogFields();
          // Winston itself writes its level onto the caller's object; the record's own fields win.
          if (fields !== undefined) {
            const record = info as Record<string, unknown>;
            if (record.trace_id === undefined) record.trace_id = fields.trace_id;
            if (record.span_id === undefined) record.span_id = fields.span_id;
            if (record.rpcid === undefined) record.rpcid = fields.rpcid;
          }
        }
        return original.call(this, info, ...rest);
      },
    );
  },
  unpatch(exports) {
    const proto = exports !== null && typeof exports === 'object' ? patchedPrototypes.get(exports) : undefined;
    if (proto === undefined) return;
    patchedPrototypes.delete(exports as object);
    if (!isWrapped(proto.write)) return;
    const original = originalOf(proto.write);
    // `write` is inherited from the stream class: remove our own property rather than leave a copy.
    const inherited = (Object.getPrototypeOf(proto) as Partial<LoggerPrototype> | null)?.write;
    if (inherited === original) delete (proto as Partial<LoggerPrototype>).write;
    else Object.defineProperty(proto, 'write', { value: original, writable: true, configurable: true, enumerable: false });
  },
};
