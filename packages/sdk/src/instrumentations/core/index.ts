export type {
  Instrumentation,
  InstrumentationContext,
  InstrumentationOptions,
  LoadedModule,
  ModuleTarget,
} from './instrumentation.js';
export { instrument, SCOPE_PREFIX, type InstrumentationHandle, type InstrumentOptions } from './enable.js';
export { isWrapped, originalOf, unwrap, wrap } from './shim.js';
export { warnOnce } from './warn-once.js';
export { watchModule } from './module-hook.js';
export { isTracingSuppressed, runSuppressed, suppressTracing } from '../../context/suppress.js';
