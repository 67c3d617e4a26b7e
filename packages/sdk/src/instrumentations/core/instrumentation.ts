import type { Tracer } from '../../trace/tracer.js';
import type { Tracing } from '../../trace/tracing.js';

/** Options shared by every instrumentation of one `instrument()` call. */
export interface InstrumentationOptions {
  /**
   * Record statement and command values (SQL literals, Redis arguments, message bodies are never
   * recorded). Default false: statements are sanitised to their shape (`where id = ?`).
   */
  captureValues: boolean;
}

/** What an instrumentation gets when it is enabled. */
export interface InstrumentationContext {
  readonly tracing: Tracing;
  /** A tracer whose scope is this instrumentation (`@linktrace/sdk/instrumentations/<name>`). */
  readonly tracer: Tracer;
  readonly options: InstrumentationOptions;
  /** Reports a problem once per distinct message on stderr; never throws. */
  warnOnce(message: string, error?: unknown): void;
}

/** The package copy being patched: its name, the version in its package.json, and the file loaded. */
export interface LoadedModule {
  readonly name: string;
  readonly version: string | undefined;
  readonly filename: string;
}

/**
 * A module an instrumentation patches when it is loaded — by `require`, or by `import` from ESM
 * (Node loads CommonJS packages through the same loader either way).
 */
export interface ModuleTarget {
  /** npm package name, e.g. `pg` or `@scope/name`. */
  readonly package: string;
  /** A file inside the package (`lib/connection.js`); default: the package's main entry. */
  readonly file?: string;
  /** Patches the module's exports in place. May throw: the caller logs once and calls `unpatch`. */
  patch(exports: unknown, ctx: InstrumentationContext, loaded: LoadedModule): void;
  /** Restores what `patch` changed; must tolerate a partial patch. */
  unpatch(exports: unknown): void;
}

/**
 * One library's instrumentation. Module targets are patched as their packages load; `enable`
 * covers what needs no module load (node builtins, diagnostics_channel subscribers).
 */
export interface Instrumentation {
  /** Short name used in configuration (`LINKTRACE_INSTRUMENTATIONS`): `http`, `pg`, … */
  readonly name: string;
  readonly targets?: readonly ModuleTarget[];
  enable?(ctx: InstrumentationContext): void;
  disable?(): void;
}
