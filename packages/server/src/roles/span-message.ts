/**
 * One JetStream message: the spans of one partition of an accepted batch, as native JSON (the span
 * model itself, lossless), with the format and the arrival time in headers. `decodeSpanMessage`
 * never throws: what it cannot use comes back as a reason, and the consumer parks the message.
 */
import { encodeNativeJson, type Span } from '@linktrace/model';
import { headers as natsHeaders, type MsgHdrs } from 'nats';
import { WIRE_FORMAT, decodeBody } from '../ingest/wire-format.js';
import { FORMAT_NATIVE_JSON, HEADER } from './jetstream-names.js';

export function encodeSpanMessage(spans: readonly Span[], arrivedUs: number): { data: Uint8Array; headers: MsgHdrs } {
  const h = natsHeaders();
  h.set(HEADER.format, FORMAT_NATIVE_JSON);
  h.set(HEADER.arrivedUs, String(arrivedUs));
  return { data: Buffer.from(JSON.stringify(encodeNativeJson(spans))), headers: h };
}

export type DecodedMessage = { ok: true; spans: Span[]; arrivedUs: number | undefined } | { ok: false; reason: string };

/** Reasons, as counted on /metrics (`reason` label). */
export const UNDECODABLE = {
  format: 'unknown_format',
  payload: 'bad_payload',
  spans: 'bad_spans',
} as const;

export function decodeSpanMessage(data: Uint8Array, headers: MsgHdrs | undefined): DecodedMessage {
  const format = headers?.get(HEADER.format) ?? '';
  if (format !== FORMAT_NATIVE_JSON) {
    return { ok: false, reason: `${UNDECODABLE.format}: format "${format.slice(0, 64)}" is not ${FORMAT_NATIVE_JSON}` };
  }
  let result;
  try {
    result = decodeBody(WIRE_FORMAT.nativeJson, data);
  } catch (error) {
    return { ok: false, reason: `${UNDECODABLE.payload}: ${(error as Error).message.slice(0, 200)}` };
  }
  // The collector publishes only spans it accepted: one the decoder refuses means the message is damaged.
  if (result.rejected > 0 || result.spans.length === 0) {
    return { ok: false, reason: `${UNDECODABLE.spans}: ${result.rejected} of ${result.spans.length + result.rejected} spans do not decode${result.errors[0] === undefined ? '' : ` (${result.errors[0].slice(0, 200)})`}` };
  }
  const arrived = Number(headers?.get(HEADER.arrivedUs));
  return { ok: true, spans: result.spans, arrivedUs: Number.isSafeInteger(arrived) && arrived > 0 ? arrived : undefined };
}

/** The `reason` label of an undecodable message: the part before the colon. */
export function reasonLabel(reason: string): string {
  return reason.split(':', 1)[0]!;
}
