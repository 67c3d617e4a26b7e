/**
 * One process-wide `beforeExit` listener for every batch processor, instead of one each (which would
 * trip Node's max-listeners warning in programs or tests that create many processors).
 * `beforeExit` fires when the event loop has nothing left to do: the last chance to send queued spans
 * from a short-lived script that never called `shutdown()`. It does not fire on `process.exit()` or
 * on signals.
 */
export interface ExitFlushable {
  onBeforeExit(): void;
}

const registered = new Set<ExitFlushable>();
let installed = false;

function onBeforeExit(): void {
  for (const target of registered) target.onBeforeExit();
}

export function registerExitFlush(target: ExitFlushable): void {
  registered.add(target);
  if (!installed) {
    installed = true;
    process.on('beforeExit', onBeforeExit);
  }
}

export function unregisterExitFlush(target: ExitFlushable): void {
  registered.delete(target);
}
