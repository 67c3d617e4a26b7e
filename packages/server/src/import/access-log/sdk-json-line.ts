/**
 * JSON-lines logs written by pino or winston in a service that runs our SDK's logger
 * integrations (packages/sdk/src/instrumentations/pino, winston): a request-completed record (as
 * pino-http or an Express logging middleware writes it) becomes one `in` record:
 *
 *   {"level":30,"time":1767225600123,"hostname":"api-1","req":{"method":"GET","url":"/shops/42",
 *    "remoteAddress":"10.0.0.7","remotePort":51234},"res":{"statusCode":200},"responseTime":12.5,
 *    "msg":"request completed","trace_id":"…","span_id":"…","rpcid":"0.1"}
 *
 * `time` (ms since the epoch) or `timestamp` (ISO 8601, winston) is when the request ended;
 * `responseTime` / `duration_ms` how long it took (ms). Lines without a request (plain messages) are
 * skipped and counted. `service` comes from the line (`service`, or pino's `name`) or the command
 * line; `instance` likewise (`instance`, or `hostname` plus `port`).
 */
import { endpointOf, type ImportedRecord, type LineResult, type LogSource } from './access-log-format.js';

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function parseSdkJsonLine(line: string, source: LogSource): LineResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { problem: 'not JSON' };
  }
  const o = obj(value);
  if (o === undefined) return { problem: 'not a JSON object' };
  const req = obj(o.req) ?? obj(o.request) ?? o;
  const res = obj(o.res) ?? obj(o.response) ?? o;
  const method = str(req.method);
  const url = str(req.url) ?? str(req.path) ?? str(req.originalUrl);
  const ms = num(o.responseTime) ?? num(o.duration_ms) ?? num(o.durationMs) ?? num(o['response-time']);
  if (method === undefined || url === undefined || ms === undefined) return { skip: 'not a request record (no method, url and responseTime)' };
  const endMs = num(o.time) ?? (typeof o.timestamp === 'string' ? Date.parse(o.timestamp) : num(o.timestamp));
  if (endMs === undefined || !Number.isFinite(endMs)) return { problem: 'no "time" (ms since the epoch) or "timestamp" (ISO 8601)' };
  const endUs = Math.round(endMs * 1000);
  const service = str(o.service) ?? str(o.name) ?? source.service;
  const hostname = str(o.hostname);
  const port = num(o.port);
  const instance = str(o.instance) ?? (hostname !== undefined && port !== undefined ? `${hostname}:${port}` : source.instance);
  const rec: ImportedRecord = { direction: 'in', service, instance, endpoint: endpointOf(method, url), startUs: endUs - Math.round(ms * 1000), endUs };
  const status = num(res.statusCode) ?? num(o.status);
  if (status !== undefined) rec.status = status;
  const ra = str(req.remoteAddress);
  const rp = num(req.remotePort);
  if (ra !== undefined && rp !== undefined) rec.remote = ra.includes(':') ? `[${ra}]:${rp}` : `${ra}:${rp}`;
  return { records: [rec] };
}
