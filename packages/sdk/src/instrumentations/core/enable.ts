import { getGlobalTracing } from '../../trace/global.js';
import type { Tracing } from '../../trace/tracing.js';
import type { Instrumentation, InstrumentationContext, InstrumentationOptions, ModuleTarget } from './instrumentation.js';
import { watchModule } from './module-hook.js';
import { warnOnce } from './warn-once.js';

export interface InstrumentOptions extends Partial<InstrumentationOptions> {
  /** Default: the global tracing (`setGlobalTracing`), looked up now. */
  tracing?: Tracing;
  instrumentations: readonly Instrumentation[];
}

/** What `instrument()` returns: stops every instrumentation it enabled and restores patched modules. */
export interface InstrumentationHandle {
  readonly enabled: readonly string[];
  disable(): void;
}

export const SCOPE_PREFIX = '@linktrace/sdk/instrumentations/';

/**
 * Enables instrumentations. Packages already loaded are patched now; the others when they load.
 * A failing patch is logged once and undone, leaving the library as it was.
 */
export function instrument(options: InstrumentOptions): InstrumentationHandle {
  const tracing = options.tracing ?? getGlobalTracing();
  const shared: InstrumentationOptions = { captureValues: options.captureValues ?? false };
  const undo: (() => void)[] = [];
  const enabled: string[] = [];
  for (const instrumentation of options.instrumentations) {
    const name = instrumentation.name;
    const ctx: InstrumentationContext = {
      tracing,
      tracer: tracing.getTracer(SCOPE_PREFIX + name),
      options: shared,
      warnOnce: (message, error) => warnOnce(name, message, error),
    };
    try {
      instrumentation.enable?.(ctx);
    } catch (error) {
      ctx.warnOnce('could not be enabled; left off', error);
      safely(() => instrumentation.disable?.());
      continue;
    }
    if (instrumentation.disable) undo.push(() => safely(() => instrumentation.disable!()));
    for (const target of instrumentation.targets ?? []) undo.push(watchTarget(target, ctx));
    enabled.push(name);
  }
  let disabled = false;
  return {
    enabled,
    disable() {
      if (disabled) return;
      disabled = true;
      for (const step of undo.reverse()) step();
    },
  };
}

function watchTarget(target: ModuleTarget, ctx: InstrumentationContext): () => void {
  const patched: unknown[] = [];
  const stop = watchModule(target.package, target.file, (exports, loaded) => {
    try {
      target.patch(exports, ctx, loaded);
      patched.push(exports);
    } catch (error) {
      ctx.warnOnce(`could not patch ${loaded.name}@${loaded.version ?? '?'}; left untouched`, error);
      safely(() => target.unpatch(exports));
    }
  });
  return () => {
    stop();
    for (const exports of patched) safely(() => target.unpatch(exports));
    patched.length = 0;
  };
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // Undoing must never throw into the application.
  }
}
