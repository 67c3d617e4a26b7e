/**
 * A chart over time in plain SVG (no chart library: the bundle stays small): a value axis with round
 * ticks, its unit and title, a time axis with clock ticks, lines or stacked bars, a legend, and a
 * tooltip per point. Used by the service page's RED charts and the flow history.
 */
import type { ReactNode } from 'react';
import { formatTime } from '../format.js';
import { niceTicks, timeLabel, timeTicks } from './scales.js';

export interface ChartSeries {
  name: string;
  /** A CSS colour (a theme variable works). */
  color: string;
  /** One per `times` entry; null where there is no value (a gap in a line). */
  values: readonly (number | null)[];
}

export interface TimeChartProps {
  /** What the chart shows, for screen readers and as its heading. */
  title: string;
  /** Step starts, µs, ascending. */
  times: readonly number[];
  /** Width of one step, µs. */
  stepUs: number;
  series: readonly ChartSeries[];
  /** `lines`, or `bars` stacked in the order given (the first at the bottom). */
  kind: 'lines' | 'bars';
  /** The value axis title, with its unit: `spans/s`, `errors`, `duration`. */
  yTitle: string;
  /** A value with its unit, for ticks and tooltips. */
  formatValue: (v: number) => string;
  /** Sums shown in the accessible label, e.g. "120 spans, 3 errors". */
  summary?: string;
}

const W = 420;
const H = 210;
const M = { top: 10, right: 14, bottom: 40, left: 76 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

export function TimeChart(p: TimeChartProps): ReactNode {
  const start = p.times[0] ?? 0;
  const end = (p.times[p.times.length - 1] ?? 0) + p.stepUs;
  const span = Math.max(1, end - start);
  const x = (t: number): number => M.left + ((t - start) / span) * PW;
  const stackTop = p.times.map((_, i) => p.series.reduce((a, s) => a + (s.values[i] ?? 0), 0));
  const max = p.kind === 'bars' ? Math.max(0, ...stackTop) : Math.max(0, ...p.series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  const yTicks = niceTicks(max);
  const top = yTicks[yTicks.length - 1]!;
  const y = (v: number): number => M.top + PH - (v / top) * PH;
  const xTicks = timeTicks(start, end);
  const barW = Math.max(1, (p.stepUs / span) * PW - 1);

  return (
    <figure className="chart">
      <figcaption>{p.title}</figcaption>
      <svg width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${p.title}${p.summary !== undefined ? `: ${p.summary}` : ''}`}>
        <g className="chart-grid" aria-hidden="true">
          {yTicks.map((v) => (
            <line key={v} x1={M.left} x2={W - M.right} y1={y(v)} y2={y(v)} />
          ))}
        </g>
        <g className="chart-axis y-axis">
          <line x1={M.left} x2={M.left} y1={M.top} y2={M.top + PH} />
          {yTicks.map((v) => (
            <text key={v} x={M.left - 6} y={y(v) + 4} textAnchor="end">
              {p.formatValue(v)}
            </text>
          ))}
          <text className="axis-title" transform={`translate(14 ${M.top + PH / 2}) rotate(-90)`} textAnchor="middle">
            {p.yTitle}
          </text>
        </g>
        <g className="chart-axis x-axis">
          <line x1={M.left} x2={W - M.right} y1={M.top + PH} y2={M.top + PH} />
          {xTicks.map((t) => (
            <g key={t}>
              <line x1={x(t)} x2={x(t)} y1={M.top + PH} y2={M.top + PH + 4} />
              <text x={x(t)} y={M.top + PH + 16} textAnchor="middle">
                {timeLabel(t, span)}
              </text>
            </g>
          ))}
          <text className="axis-title" x={M.left + PW / 2} y={H - 4} textAnchor="middle">
            time (local)
          </text>
        </g>
        {p.kind === 'bars' ? <Bars {...p} x={x} y={y} barW={barW} /> : <Lines {...p} x={x} y={y} />}
      </svg>
      {p.series.length > 1 ? (
        <ul className="chart-legend">
          {p.series.map((s) => (
            <li key={s.name}>
              <span className="legend-swatch" style={{ background: s.color }} aria-hidden="true" />
              {s.name}
            </li>
          ))}
        </ul>
      ) : null}
    </figure>
  );
}

type Plot = TimeChartProps & { x: (t: number) => number; y: (v: number) => number };

function Bars(p: Plot & { barW: number }): ReactNode {
  return (
    <g className="chart-bars">
      {p.times.map((t, i) => {
        let base = 0;
        const tip = `${formatTime(t)}: ${p.series.map((s) => `${s.name} ${p.formatValue(s.values[i] ?? 0)}`).join(', ')}`;
        return (
          <g key={t} className="chart-bar">
            <title>{tip}</title>
            {p.series.map((s) => {
              const v = s.values[i] ?? 0;
              const y0 = p.y(base);
              base += v;
              const h = y0 - p.y(base);
              return v > 0 ? <rect key={s.name} x={p.x(t) + 0.5} y={y0 - h} width={p.barW} height={Math.max(h, 1)} fill={s.color} /> : null;
            })}
          </g>
        );
      })}
    </g>
  );
}

function Lines(p: Plot): ReactNode {
  const mid = p.stepUs / 2;
  return (
    <g className="chart-lines">
      {p.series.map((s) => {
        let d = '';
        let pen = false;
        s.values.forEach((v, i) => {
          if (v === null) {
            pen = false;
            return;
          }
          d += `${pen ? 'L' : 'M'}${p.x(p.times[i]! + mid).toFixed(1)},${p.y(v).toFixed(1)}`;
          pen = true;
        });
        return (
          <g key={s.name}>
            <path d={d} fill="none" stroke={s.color} strokeWidth={1.8} />
            {s.values.map((v, i) =>
              v === null ? null : (
                <circle key={i} cx={p.x(p.times[i]! + mid)} cy={p.y(v)} r={2.2} fill={s.color}>
                  <title>{`${formatTime(p.times[i]!)}: ${s.name} ${p.formatValue(v)}`}</title>
                </circle>
              ),
            )}
          </g>
        );
      })}
    </g>
  );
}
