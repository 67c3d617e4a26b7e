/** The time range control shared by search, map and findings: a lookback, or a custom start/end. */
import type { ReactNode } from 'react';
import { LOOKBACKS } from './format.js';

export interface TimeRangeValue {
  lookback: string;
  start: string;
  end: string;
}

export function readTimeRange(params: URLSearchParams, fallback: string): TimeRangeValue {
  const start = params.get('start') ?? '';
  const end = params.get('end') ?? '';
  return { lookback: start !== '' || end !== '' ? 'custom' : (params.get('lookback') ?? fallback), start, end };
}

/** URL parameters for a time range value. */
export function timeRangeParams(v: TimeRangeValue): Record<string, string | undefined> {
  if (v.lookback === 'custom') return { start: v.start || undefined, end: v.end || undefined };
  return { lookback: v.lookback };
}

export function TimeRangeField({ value, onChange, idPrefix }: { value: TimeRangeValue; onChange: (v: TimeRangeValue) => void; idPrefix: string }): ReactNode {
  return (
    <>
      <label htmlFor={`${idPrefix}-lookback`}>
        Time range
        <select id={`${idPrefix}-lookback`} value={value.lookback} onChange={(e) => onChange({ ...value, lookback: e.target.value })}>
          {LOOKBACKS.map((l) => (
            <option key={l.value} value={l.value}>
              {l.label}
            </option>
          ))}
          <option value="all">Any time</option>
          <option value="custom">Custom…</option>
        </select>
      </label>
      {value.lookback === 'custom' ? (
        <>
          <label htmlFor={`${idPrefix}-start`}>
            From
            <input id={`${idPrefix}-start`} type="datetime-local" step="1" value={value.start} onChange={(e) => onChange({ ...value, start: e.target.value })} />
          </label>
          <label htmlFor={`${idPrefix}-end`}>
            To
            <input id={`${idPrefix}-end`} type="datetime-local" step="1" value={value.end} onChange={(e) => onChange({ ...value, end: e.target.value })} />
          </label>
        </>
      ) : null}
    </>
  );
}
