import { LossSummary, safeReport, type ErrorHandler } from './error-reporter.js';
import { addLoss, lossSummaryLine, lossTotal, type SpanLoss } from './span-loss.js';

/**
 * One process-wide `beforeExit` listener for every batch processor, instead of one each (which would
 * trip Node's max-listeners warning in programs or tests that create many processors).
 * `beforeExit` fires when the event loop has nothing left to do: the last chance to send queued spans
 * from a short-lived script that never called `shutdown()`. It does not fire on `process.exit()` or
 * on signals.
 *
 * And one `exit` listener that accounts for every span lost in the process: at exit, what is still
 * held counts as lost, and when anything was lost, ONE summary line by cause goes to the error
 * reporter (per reporter: processors that share one, as under the register hook, share the line).
 */
export interface ExitFlushable {
  onBeforeExit(): void;
  /** Counts what is still held as lost; returns the loss over the processor's life. */
  onExit(): SpanLoss;
  readonly lossReporter: ErrorHandler;
}

const registered = new Set<ExitFlushable>();
/** Processors that lost spans, kept for the exit summary even after they were shut down. */
const lossy = new Set<ExitFlushable>();
/**
 * Every live processor, held weakly: one without the exit flush (`flushOnExit: false`) may still hold
 * spans at exit, and those are lost too. A collected processor held nothing worth counting.
 */
const live = new Set<WeakRef<ExitFlushable>>();
const forget = new FinalizationRegistry<WeakRef<ExitFlushable>>((ref) => live.delete(ref));
let installed = false;

function onBeforeExit(): void {
  for (const target of registered) target.onBeforeExit();
}

function onExit(): void {
  const byReporter = new Map<ErrorHandler, SpanLoss>();
  const targets = new Set([...registered, ...lossy]);
  for (const ref of live) {
    const target = ref.deref();
    if (target !== undefined) targets.add(target);
  }
  for (const target of targets) {
    const loss = target.onExit();
    if (lossTotal(loss) === 0) continue;
    const sum = byReporter.get(target.lossReporter) ?? { queueFull: 0, exportFailed: 0, afterShutdown: 0, unsentAtExit: 0 };
    addLoss(sum, loss);
    byReporter.set(target.lossReporter, sum);
  }
  for (const [reporter, loss] of byReporter) safeReport(reporter, new LossSummary(lossSummaryLine(loss)));
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('beforeExit', onBeforeExit);
  process.on('exit', onExit);
}

export function registerExitFlush(target: ExitFlushable): void {
  registered.add(target);
  install();
}

export function unregisterExitFlush(target: ExitFlushable): void {
  registered.delete(target);
}

/** A new processor: what it still holds at exit is counted, registered for the exit flush or not. */
export function trackForExit(target: ExitFlushable): void {
  const ref = new WeakRef(target);
  live.add(ref);
  forget.register(target, ref);
  install();
}

/** A processor lost spans: it takes part in the exit summary, registered for the exit flush or not. */
export function noteLoss(target: ExitFlushable): void {
  if (lossy.has(target)) return;
  lossy.add(target);
  install();
}
