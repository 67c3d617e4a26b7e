// The global fetch (undici bundled with Node), traced through undici's diagnostics channels.
export { fetchInstrumentation, type FetchInstrumentationConfig } from './fetch-instrumentation.js';
