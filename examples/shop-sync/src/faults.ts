/**
 * Fault switches of the demo. A fault is chosen per change by the `x-fault` request header of the
 * PUT; it then rides along in the message headers and the notification headers, so the hop that
 * misbehaves is the one that reads it. `stop-consumer` is a runtime toggle instead
 * (`SyncWorker.setConsuming(false)`): a consumer that is not running cannot read a header.
 */
export type Fault =
  | 'drop-write'
  | 'stop-consumer'
  | 'deliver-twice'
  | 'crash-mid-process'
  | 'slow-downstream'
  | 'lose-notification'
  | 'corrupt-cache';

export const FAULTS: readonly Fault[] = [
  'drop-write',
  'stop-consumer',
  'deliver-twice',
  'crash-mid-process',
  'slow-downstream',
  'lose-notification',
  'corrupt-cache',
];

export const FAULT_HEADER = 'x-fault';

/** The fault named by a header value (string, Buffer or array of them); undefined for none or an unknown name. */
export function parseFault(value: unknown): Fault | undefined {
  let v = Array.isArray(value) ? (value as unknown[])[0] : value;
  if (Buffer.isBuffer(v)) v = v.toString('utf8');
  if (typeof v !== 'string') return undefined;
  const name = v.trim().toLowerCase();
  return (FAULTS as readonly string[]).includes(name) ? (name as Fault) : undefined;
}
