/**
 * `node --import @linktrace/sdk/register app.mjs` or `node -r @linktrace/sdk/register app.cjs`:
 * tracing configured from the environment before the application loads. Synchronous on purpose
 * (no top-level await), so that `require()` of this ES module works for `-r`.
 */
import { startTracingFromEnv } from './auto/from-env.js';

const REGISTERED = Symbol.for('linktrace.register');
const state = globalThis as { [REGISTERED]?: boolean };

// Loaded twice (both --import and -r, or NODE_OPTIONS plus a flag): configure once.
if (state[REGISTERED] !== true) {
  state[REGISTERED] = true;
  try {
    startTracingFromEnv();
  } catch (error) {
    process.stderr.write(`linktrace: tracing not started: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}
