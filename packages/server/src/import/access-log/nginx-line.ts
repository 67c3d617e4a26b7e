/**
 * nginx's `combined` log format followed by `$request_time $upstream_addr`, and optionally
 * `$upstream_response_time $msec`:
 *
 *   log_format linktrace '$remote_addr - $remote_user [$time_local] "$request" $status '
 *                        '$body_bytes_sent "$http_referer" "$http_user_agent" '
 *                        '$request_time $upstream_addr $upstream_response_time $msec';
 *
 * A line is the request nginx served (`in`) and, when `$upstream_addr` names one, the call it made
 * upstream (`out`, with `remote` = the upstream address). `$time_local` has one-second resolution:
 * `$msec` (the end time in ms) makes timing usable, and the docs say so.
 */
import { endpointOf, type ImportedRecord, type LineResult, type LogSource } from './access-log-format.js';

const LINE =
  /^(\S+) \S+ \S+ \[([^\]]+)\] "([A-Z]+) (\S+)[^"]*" (\d{3}) \S+ "(?:[^"\\]|\\.)*" "(?:[^"\\]|\\.)*" ([0-9.]+) (\S+)(?: ([0-9.,:\s-]+?))?(?: ([0-9]+\.[0-9]+))?\s*$/;

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** `10/Oct/2000:13:55:36 -0700` → µs since the epoch. */
export function parseTimeLocal(text: string): number | undefined {
  const m = /^(\d{2})\/([A-Za-z]{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (m === null) return undefined;
  const month = MONTHS[m[2]!];
  if (month === undefined) return undefined;
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  const offsetMin = (Number(m[8]) * 60 + Number(m[9])) * (m[7] === '-' ? -1 : 1);
  return (utc - offsetMin * 60_000) * 1000;
}

export function parseNginxLine(line: string, source: LogSource): LineResult {
  const m = LINE.exec(line);
  if (m === null) return { problem: 'not an nginx combined line followed by $request_time $upstream_addr' };
  const [, remoteAddr, timeLocal, method, target, status, requestTime, upstream, upstreamTime, msec] = m;
  const endUs = msec !== undefined ? Math.round(Number(msec) * 1e6) : parseTimeLocal(timeLocal!);
  if (endUs === undefined || !Number.isFinite(endUs)) return { problem: `cannot read the time ${JSON.stringify(timeLocal)}` };
  const durUs = Math.round(Number(requestTime) * 1e6);
  if (!Number.isFinite(durUs)) return { problem: `$request_time ${JSON.stringify(requestTime)} is not a number` };
  const endpoint = endpointOf(method!, target!);
  const inRec: ImportedRecord = {
    direction: 'in',
    service: source.service,
    instance: source.instance,
    endpoint,
    startUs: endUs - durUs,
    endUs,
    status: Number(status),
  };
  // The client's address without its port is no connection end: kept only when it has one.
  if (/:\d+$/.test(remoteAddr!) && remoteAddr!.includes('.')) inRec.remote = remoteAddr!;
  const records = [inRec];
  if (upstream !== '-' && upstream !== undefined) {
    // Several upstreams (retries) are comma-separated; the last one answered.
    const addrs = upstream.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const times = (upstreamTime ?? '').split(/[,:]/).map((s) => Number(s.trim()));
    const last = times.length > 0 ? times[times.length - 1]! : Number.NaN;
    const upUs = Number.isFinite(last) ? Math.round(last * 1e6) : durUs;
    records.push({ direction: 'out', service: source.service, instance: source.instance, endpoint, startUs: endUs - Math.min(durUs, upUs), endUs, remote: addrs[addrs.length - 1]!, status: Number(status) });
  }
  return { records };
}
