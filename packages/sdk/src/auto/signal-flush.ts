const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const FLUSH_TIMEOUT_MS = 2000;

/**
 * A process killed by SIGINT or SIGTERM never reaches `beforeExit`, so queued spans would be lost.
 * When nobody else handles the signal (Node's default is to die), flush for at most two seconds and
 * then die of the same signal, as if nothing had listened. An application that handles the signal
 * itself keeps full control: then nothing happens here.
 */
export function installSignalFlush(flush: () => Promise<void>): () => void {
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const signal of SIGNALS) {
    const handler = (): void => {
      if (process.listenerCount(signal) > 1) return;
      process.removeListener(signal, handler);
      const timer = setTimeout(die, FLUSH_TIMEOUT_MS);
      timer.unref();
      flush().then(die, die);
      function die(): void {
        clearTimeout(timer);
        process.kill(process.pid, signal);
      }
    };
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  return () => {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
  };
}
