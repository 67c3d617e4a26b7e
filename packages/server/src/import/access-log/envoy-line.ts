/**
 * Envoy's default access-log format:
 *
 *   [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%"
 *   %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION%
 *   %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
 *   "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"
 *
 * (Envoy docs, "Access logging", default format string). A line is the request Envoy served
 * (`in`) and, when `%UPSTREAM_HOST%` names one, the call it forwarded (`out`), which took the
 * upstream service time and ended when the response came back.
 */
import { endpointOf, type ImportedRecord, type LineResult, type LogSource } from './access-log-format.js';

const LINE = /^\[([^\]]+)\] "([A-Z]+) (\S+) [^"]*" (\d{3}|-|0) \S+ \d+ \d+ (\d+) (\d+|-) "[^"]*" "(?:[^"\\]|\\.)*" "[^"]*" "[^"]*" "([^"]*)"/;

export function parseEnvoyLine(line: string, source: LogSource): LineResult {
  const m = LINE.exec(line);
  if (m === null) return { problem: "not Envoy's default access-log format" };
  const [, startTime, method, path, code, duration, upstreamTime, upstreamHost] = m;
  const startMs = Date.parse(startTime!);
  if (!Number.isFinite(startMs)) return { problem: `cannot read the start time ${JSON.stringify(startTime)}` };
  const startUs = startMs * 1000;
  const endUs = startUs + Number(duration) * 1000;
  const endpoint = endpointOf(method!, path!);
  const status = /^\d{3}$/.test(code!) ? Number(code) : undefined;
  const inRec: ImportedRecord = { direction: 'in', service: source.service, instance: source.instance, endpoint, startUs, endUs };
  if (status !== undefined) inRec.status = status;
  const records = [inRec];
  if (upstreamHost !== undefined && upstreamHost !== '' && upstreamHost !== '-') {
    const upUs = upstreamTime === '-' ? endUs - startUs : Math.min(endUs - startUs, Number(upstreamTime) * 1000);
    const out: ImportedRecord = { direction: 'out', service: source.service, instance: source.instance, endpoint, startUs: endUs - upUs, endUs, remote: upstreamHost };
    if (status !== undefined) out.status = status;
    records.push(out);
  }
  return { records };
}
