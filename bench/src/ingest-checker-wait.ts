/**
 * After ingest, the server's chain checker still has the traces of its last check delay to read
 * back and check. Queries are timed once it is done (as on a server whose checker keeps up), and
 * how long it took is a figure of its own. A server without a checker reports none.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { metricByLabel, metricValue } from './ingest-server.js';

export interface CheckerDrain {
  /** False when the server exposes no checker metrics. */
  present: boolean;
  /** False when the checker had not finished within the time allowed. */
  drained: boolean;
  seconds: number;
  tracesChecked: number;
  /** New findings by rule id. */
  findings: [string, number][];
  /** Traces the full buffer refused (checked from the store later), and re-checks that did not fit. */
  refusedTraces: number;
  droppedRechecks: number;
}

const POLL_MS = 250;
/** Checked-trace count unchanged this long with nothing open or waiting: the checker is idle. */
const QUIET_MS = 2000;

export async function waitForChecker(metrics: () => Promise<string>, timeoutMs: number): Promise<CheckerDrain> {
  const t0 = performance.now();
  let lastChecked = -1;
  let quietSince = 0;
  for (;;) {
    const text = await metrics();
    const open = metricValue(text, 'linktrace_checker_open_traces');
    const checked = metricValue(text, 'linktrace_checker_traces_checked_total');
    // Refused traces and re-checks wait in a queue of their own (absent on older servers: 0).
    const rechecks = metricValue(text, 'linktrace_checker_pending_rechecks');
    const waiting = open + (Number.isNaN(rechecks) ? 0 : rechecks);
    const now = performance.now();
    const result = (drained: boolean): CheckerDrain => ({
      present: !Number.isNaN(open),
      drained,
      seconds: (now - t0) / 1000,
      tracesChecked: Number.isNaN(checked) ? 0 : checked,
      findings: [...metricByLabel(text, 'linktrace_findings_total', 'rule')].sort((a, b) => b[1] - a[1]),
      refusedTraces: metricValue(text, 'linktrace_checker_dropped_traces_total') || 0,
      droppedRechecks: metricValue(text, 'linktrace_checker_dropped_rechecks_total') || 0,
    });
    if (Number.isNaN(open)) return result(true);
    if (waiting === 0 && checked === lastChecked) {
      if (now - quietSince >= QUIET_MS) return { ...result(true), seconds: (quietSince - t0) / 1000 };
    } else {
      lastChecked = checked;
      quietSince = now;
    }
    if (now - t0 > timeoutMs) return result(false);
    await sleep(POLL_MS);
  }
}
