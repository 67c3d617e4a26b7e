// Programmatic API: `instrument({ instrumentations: [httpInstrumentation(), pgInstrumentation()] })`.
export * from './core/index.js';
export { BUILTIN_INSTRUMENTATIONS, OPT_IN_INSTRUMENTATIONS } from './registry.js';
