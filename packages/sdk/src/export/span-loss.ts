/** Spans an export pipeline will never deliver, by cause (cumulative since the pipeline started). */
export interface SpanLoss {
  /** Found the queue full. */
  queueFull: number;
  /** In batches the collector refused, or that still failed after the last attempt (a collector that is down). */
  exportFailed: number;
  /** Ended after the pipeline was shut down. */
  afterShutdown: number;
  /** Still queued, waiting for a retry or in flight when the process exited. */
  unsentAtExit: number;
  /** The latest reason a span was lost, for the reader of the summary. */
  lastReason?: string | undefined;
}

export function lossTotal(loss: SpanLoss): number {
  return loss.queueFull + loss.exportFailed + loss.afterShutdown + loss.unsentAtExit;
}

/** `0 queue full, 512 export failed, 0 after shutdown, 0 unsent at exit` */
export function describeLoss(loss: SpanLoss): string {
  return `${loss.queueFull} queue full, ${loss.exportFailed} export failed, ${loss.afterShutdown} after shutdown, ${loss.unsentAtExit} unsent at exit`;
}

/** The one line a process prints at exit when it lost spans. */
export function lossSummaryLine(loss: SpanLoss): string {
  const why = loss.lastReason === undefined ? '' : ` (last: ${loss.lastReason})`;
  return `${lossTotal(loss)} spans lost, never delivered: ${describeLoss(loss)}${why}`;
}

export function addLoss(into: SpanLoss, loss: SpanLoss): void {
  into.queueFull += loss.queueFull;
  into.exportFailed += loss.exportFailed;
  into.afterShutdown += loss.afterShutdown;
  into.unsentAtExit += loss.unsentAtExit;
  if (loss.lastReason !== undefined) into.lastReason = loss.lastReason;
}
