/**
 * One service's RED metrics (`#/service/<name>?lookback=1h&operation=<op>`): request rate, errors and
 * p50/p95/p99 duration over time, from `GET /api/v1/metrics/red` (counted at ingest, kept 24 h), and
 * its operations slowest first. Reached from the service map and from a search by service.
 */
import type { ReactNode } from 'react';
import { redOperations, redSeries, type RedOperationsResponse, type RedResponse } from '../api/red.js';
import { TimeChart } from '../charts/time-chart.js';
import { serviceColor } from '../colors.js';
import { FilterForm } from '../filter-form.js';
import { formatDuration, formatPercent, LOOKBACKS } from '../format.js';
import { plural } from '../plural.js';
import { href, navigate } from '../router.js';
import { StatusLine } from '../status-line.js';
import { useApi } from '../use-api.js';
import { useUrlDraft } from '../use-url-draft.js';

const MINUTE_US = 60_000_000;
/** The server keeps RED cells for 24 h: longer lookbacks would show nothing more. */
const RANGES = LOOKBACKS.filter((l) => l.us <= 24 * 3600e6);
const DEFAULT_LOOKBACK = '1h';

interface RedWindow {
  startUs: number;
  endUs: number;
  stepUs: number;
}

/** The chosen lookback up to now, in about 60 steps of whole minutes (the metrics' resolution). */
function windowOf(lookback: string, nowUs: number): RedWindow {
  const range = RANGES.find((l) => l.value === lookback) ?? RANGES.find((l) => l.value === DEFAULT_LOOKBACK)!;
  const stepUs = Math.max(1, Math.ceil(range.us / MINUTE_US / 60)) * MINUTE_US;
  return { startUs: nowUs - range.us, endUs: nowUs, stepUs };
}

const formatRate = (v: number): string => `${v < 10 ? Number(v.toPrecision(2)) : Math.round(v)}/s`;

export function ServicePage({ service, params }: { service: string; params: URLSearchParams }): ReactNode {
  const lookback = params.get('lookback') ?? DEFAULT_LOOKBACK;
  const operation = params.get('operation') ?? '';
  const key = `${service}\n${params.toString()}`;
  const [draft, setDraft] = useUrlDraft(params, (p) => p.get('lookback') ?? DEFAULT_LOOKBACK);
  // Now is taken when the URL (or a token) changes, not on every render.
  const loaded = useApi(`red:${key}`, async (signal) => {
    const w = windowOf(lookback, Date.now() * 1000);
    const range = { start: String(Math.floor(w.startUs)), end: String(Math.floor(w.endUs)) };
    const [series, ops] = await Promise.all([
      redSeries({ service, operation: operation === '' ? undefined : operation, step: `${w.stepUs / MINUTE_US}m`, ...range }, signal),
      redOperations({ service, ...range }, signal),
    ]);
    return { series, ops, window: w };
  });
  if (service === '') return <p className="status error">No service named: open a service from the service map or a search.</p>;
  return (
    <section className="page service-page" aria-labelledby="service-title">
      <h1 id="service-title">
        <span className="svc-dot" style={{ background: serviceColor(service) }} aria-hidden="true" />
        {service}
        {operation !== '' ? <span className="muted">: {operation}</span> : null}
      </h1>
      <p className="muted">
        Rate, errors and duration counted at ingest from every stored span (kept 24 h).{' '}
        <a href={href('search', '', { service, operation })}>Search its traces</a>
        {operation !== '' ? (
          <>
            {' · '}
            <a href={href('service', service, { lookback })}>All operations</a>
          </>
        ) : null}
      </p>
      <FilterForm label="Service metrics window" submit="Show" onSubmit={() => navigate(href('service', service, { lookback: draft, operation }))}>
        <label htmlFor="s-lookback">
          Time range
          <select id="s-lookback" value={draft} onChange={(e) => setDraft(() => e.target.value)}>
            {RANGES.map((l) => (
              <option key={l.value} value={l.value}>
                {l.label}
              </option>
            ))}
          </select>
        </label>
      </FilterForm>
      <StatusLine loaded={loaded}>
        {({ series, ops, window: win }) => (
          <>
            <RedCharts series={series} win={win} />
            <SlowestOperations service={service} lookback={lookback} ops={ops} current={operation} />
          </>
        )}
      </StatusLine>
    </section>
  );
}

function RedCharts({ series, win }: { series: RedResponse; win: RedWindow }): ReactNode {
  const points = series.points;
  const times = points.map((p) => p.t);
  const stepSeconds = series.step / 1e6;
  const spans = Math.round(points.reduce((a, p) => a + p.rate * stepSeconds, 0));
  const errors = points.reduce((a, p) => a + p.errors, 0);
  const stepText = win.stepUs === MINUTE_US ? 'minute' : `${win.stepUs / MINUTE_US} minutes`;
  return (
    <>
      {spans === 0 ? (
        <p className="status" role="status">
          No span of this {series.operation !== undefined ? 'operation' : 'service'} started in this window.
        </p>
      ) : null}
      <div className="charts">
        <TimeChart
          title="Rate"
          times={times}
          stepUs={series.step}
          kind="lines"
          yTitle="spans per second"
          formatValue={formatRate}
          summary={plural(spans, 'span')}
          series={[{ name: 'rate', color: 'var(--accent)', values: points.map((p) => p.rate) }]}
        />
        <TimeChart
          title="Errors"
          times={times}
          stepUs={series.step}
          kind="bars"
          yTitle={`errors per ${stepText}`}
          formatValue={(v) => String(v)}
          summary={`${plural(errors, 'error')} (${formatPercent(spans === 0 ? 0 : errors / spans)} of spans)`}
          series={[{ name: 'errors', color: 'var(--error)', values: points.map((p) => p.errors) }]}
        />
        <TimeChart
          title="Duration"
          times={times}
          stepUs={series.step}
          kind="lines"
          yTitle="duration"
          formatValue={formatDuration}
          summary="p50, p95 and p99"
          series={[
            { name: 'p50', color: 'var(--p50)', values: points.map((p) => p.p50) },
            { name: 'p95', color: 'var(--p95)', values: points.map((p) => p.p95) },
            { name: 'p99', color: 'var(--p99)', values: points.map((p) => p.p99) },
          ]}
        />
      </div>
    </>
  );
}

function SlowestOperations({ service, lookback, ops, current }: { service: string; lookback: string; ops: RedOperationsResponse; current: string }): ReactNode {
  return (
    <>
      <h2>Slowest operations</h2>
      {ops.operations.length === 0 ? (
        <p className="muted">No operation in this window.</p>
      ) : (
        <table className="grid" aria-label="Slowest operations">
          <thead>
            <tr>
              <th scope="col">Operation</th>
              <th scope="col">p99</th>
              <th scope="col">p95</th>
              <th scope="col">p50</th>
              <th scope="col">Spans</th>
              <th scope="col">Rate</th>
              <th scope="col">Errors</th>
              <th scope="col">Error rate</th>
              <th scope="col">Traces</th>
            </tr>
          </thead>
          <tbody>
            {ops.operations.map((o) => (
              <tr key={o.operation} aria-current={o.operation === current ? 'true' : undefined}>
                <td>
                  <a href={href('service', service, { lookback, operation: o.operation })} aria-label={`Charts of ${o.operation}`}>
                    {o.operation}
                  </a>
                </td>
                <td>{formatDuration(o.p99 ?? undefined)}</td>
                <td>{formatDuration(o.p95 ?? undefined)}</td>
                <td>{formatDuration(o.p50 ?? undefined)}</td>
                <td>{o.count}</td>
                <td>{formatRate(o.rate)}</td>
                <td>{o.errors}</td>
                <td>{formatPercent(o.errorRate)}</td>
                <td>
                  <a href={href('search', '', { service, operation: o.operation === 'other' ? undefined : o.operation })}>search</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
