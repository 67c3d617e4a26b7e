import type { Instrumentation, ModuleTarget } from '../core/instrumentation.js';
import { activeLogFields } from '../core/log-fields.js';
import { unwrap, wrap } from '../core/shim.js';
import { requireMajor } from '../core/version-range.js';

type AsJson = (this: unknown, obj: object, msg: unknown, num: number, time: string) => string;
type LoggerPrototype = Record<symbol, unknown>;

/** Pino's main export as far as this instrumentation relies on it. */
interface PinoFactory {
  (options: object, stream: { write(line: string): void }): object;
  symbols: { asJsonSym?: unknown };
}

const patchedPrototypes = new WeakMap<object, { proto: LoggerPrototype; asJsonSym: symbol }>();

/**
 * Adds `trace_id`, `span_id` and `rpcid` to every pino record written while a span is active.
 *
 * Every pino logger (children included) serialises through one shared prototype method,
 * `pino.symbols.asJsonSym`; wrapping it there covers loggers created before and after enable, and
 * merges like a pino `mixin` does (the record's own fields win over ours).
 */
export function pinoInstrumentation(): Instrumentation {
  return { name: 'pino', targets: [pinoTarget] };
}

const pinoTarget: ModuleTarget = {
  package: 'pino',
  patch(exports, _ctx, loaded) {
    requireMajor('pino', loaded.version, 7, 10);
    const asJsonSym = typeof exports === 'function' ? (exports as Partial<PinoFactory>).symbols?.asJsonSym : undefined;
    if (typeof asJsonSym !== 'symbol') throw new Error('unexpected export shape: no pino.symbols.asJsonSym');
    const pino = exports as PinoFactory;
    // A throwaway logger on a no-op stream leads to the prototype all loggers share.
    const probe = pino({ level: 'silent' }, { write() {} });
    const proto = Object.getPrototypeOf(Object.getPrototypeOf(probe) as object) as LoggerPrototype | null;
    if (proto === null || !Object.hasOwn(proto, asJsonSym) || typeof proto[asJsonSym] !== 'function') {
      throw new Error('unexpected logger shape: the serialiser is not on the shared prototype');
    }
    patchedPrototypes.set(pino, { proto, asJsonSym });
    wrap(proto, asJsonSym, (original) => {
      const asJson = original as AsJson;
      return function linktraceAsJson(this: unknown, obj: object, msg: unknown, num: number, time: string): string {
        const fields = activeLogFields();
        if (fields === undefined) return asJson.call(this, obj, msg, num, time);
        return asJson.call(this, Object.assign(fields, obj), msg, num, time);
      };
    });
  },
  unpatch(exports) {
    const patched = typeof exports === 'function' ? patchedPrototypes.get(exports) : undefined;
    if (patched === undefined) return;
    unwrap(patched.proto, patched.asJsonSym);
    patchedPrototypes.delete(exports as object);
  },
};
