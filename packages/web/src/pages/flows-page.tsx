/**
 * Flow contracts: each contract's health (instances, broken, p50/p99 end to end) and, for the one
 * chosen (`#/flows?flow=<name>`), its history over time and its broken instances, each a link to
 * its trace.
 */
import type { ReactNode } from 'react';
import { flowDetail, flows } from '../api/client.js';
import type { FlowBucket, FlowDetail, FlowView } from '../api/types.js';
import { TimeChart } from '../charts/time-chart.js';
import { formatDuration, formatPercent, formatTime } from '../format.js';
import { plural } from '../plural.js';
import { href } from '../router.js';
import { StatusLine } from '../status-line.js';
import { useApi } from '../use-api.js';

function health(v: FlowView): number | undefined {
  const done = v.summary.complete + v.summary.broken;
  return done === 0 ? undefined : v.summary.complete / done;
}

export function FlowsPage({ params }: { params: URLSearchParams }): ReactNode {
  const chosen = params.get('flow') ?? undefined;
  const list = useApi('flows', (s) => flows(s));
  return (
    <section className="page flows-page" aria-labelledby="flows-title">
      <h1 id="flows-title">Flows</h1>
      <StatusLine loaded={list}>
        {(views) =>
          views.length === 0 ? (
            <p className="status" role="status">
              No flow contract is declared. Declare them with <code>linktrace serve --flows &lt;file&gt;</code> or <code>POST /api/v1/flows</code>.
            </p>
          ) : (
            <>
              <table className="grid" aria-label="Flow contracts">
                <thead>
                  <tr>
                    <th scope="col">Flow</th>
                    <th scope="col">Steps</th>
                    <th scope="col">Instances</th>
                    <th scope="col">Complete</th>
                    <th scope="col">Broken</th>
                    <th scope="col">Pending</th>
                    <th scope="col">Health</th>
                    <th scope="col">p50</th>
                    <th scope="col">p99</th>
                  </tr>
                </thead>
                <tbody>
                  {views.map((v) => {
                    const h = health(v);
                    return (
                      <tr key={v.contract.name} aria-current={v.contract.name === chosen ? 'true' : undefined}>
                        <td>
                          <a href={href('flows', '', { flow: v.contract.name })}>{v.contract.name}</a>
                        </td>
                        <td className="steps">{v.contract.steps.map((st) => `${st.service} ${st.stage}${st.target !== undefined ? ` ${st.target}` : ''}`).join(' → ')}</td>
                        <td>{v.summary.instances}</td>
                        <td>{v.summary.complete}</td>
                        <td>{v.summary.broken > 0 ? <span className="badge finding-badge">{v.summary.broken}</span> : 0}</td>
                        <td>{v.summary.pending}</td>
                        <td>{h === undefined ? '—' : <span className={h < 1 ? 'bad' : 'good'}>{formatPercent(h)}</span>}</td>
                        <td>{formatDuration(v.summary.p50Us)}</td>
                        <td>{formatDuration(v.summary.p99Us)}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              {chosen !== undefined ? <FlowPanel name={chosen} /> : <p className="muted">Choose a flow to see its history and broken instances.</p>}
            </>
          )
        }
      </StatusLine>
    </section>
  );
}

function FlowPanel({ name }: { name: string }): ReactNode {
  const loaded = useApi(`flow:${name}`, (s) => flowDetail(name, s));
  return (
    <section className="flow-panel" aria-labelledby="flow-title">
      <h2 id="flow-title">{name}</h2>
      <StatusLine loaded={loaded}>{(d) => (d === undefined ? <p className="note">This server keeps no flow history (no /api/v1/flows/:name).</p> : <FlowHistory detail={d} />)}</StatusLine>
    </section>
  );
}

function FlowHistory({ detail }: { detail: FlowDetail }): ReactNode {
  return (
    <>
      <h3>Over time</h3>
      {detail.history.length === 0 ? <p className="muted">No instance yet.</p> : <HistoryChart history={detail.history} />}
      <h3>Broken instances</h3>
      {detail.brokenInstances.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ul className="broken-list" aria-label="Broken instances">
          {detail.brokenInstances.map((b) => (
            <li key={b.traceId}>
              <a className="mono" href={href('trace', b.traceId)}>
                {b.traceId}
              </a>{' '}
              <span className="muted">{formatTime(b.atUs)}</span> missing: {b.missing.length === 0 ? 'a late step' : b.missing.join(', ')}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** The server's history buckets are one minute wide; minutes without instances are left out of its answer. */
const BUCKET_US = 60_000_000;

/** Instances per minute, the complete ones and the broken ones stacked, with time and count axes. */
function HistoryChart({ history }: { history: readonly FlowBucket[] }): ReactNode {
  const byStart = new Map(history.map((h) => [h.startUs, h]));
  const first = history[0]!.startUs;
  const last = history[history.length - 1]!.startUs;
  const times: number[] = [];
  for (let t = first; t <= last; t += BUCKET_US) times.push(t);
  const instances = history.reduce((a, h) => a + h.instances, 0);
  const broken = history.reduce((a, h) => a + h.broken, 0);
  return (
    <TimeChart
      title="Instances per minute"
      times={times}
      stepUs={BUCKET_US}
      kind="bars"
      yTitle="instances"
      formatValue={(v) => String(v)}
      summary={`${plural(instances, 'instance')}, ${broken} broken`}
      series={[
        { name: 'complete', color: 'var(--good)', values: times.map((t) => { const h = byStart.get(t); return h === undefined ? 0 : h.instances - h.broken; }) },
        { name: 'broken', color: 'var(--error)', values: times.map((t) => byStart.get(t)?.broken ?? 0) },
      ]}
    />
  );
}
